"""Pure decision code: snapshots + config + now in, Action values out. No I/O here."""
