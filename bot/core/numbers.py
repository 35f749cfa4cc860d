"""Numbers read from people's text (a dashboard filter, a CLI argument, a column of an imported
file): ASCII digits only, few enough for the store's 64-bit integers."""

from __future__ import annotations

STORE_DIGITS = 18  # any such number fits the store's 64-bit integers (SQLite and PostgreSQL)


def whole_number(text: str) -> int | None:
    """`text` as a number when it is 1 to STORE_DIGITS ASCII digits, else None. isdigit() alone
    takes "²" (int() refuses it) and numbers of any length (SQLite refuses past 64 bits)."""
    if 0 < len(text) <= STORE_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None
