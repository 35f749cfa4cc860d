"""Use cases: fetch -> decide (core) -> act. Collaborators come in as ports."""
