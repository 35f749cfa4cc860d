"""FastAPI edge: verify -> parse -> record -> enqueue -> 202. No GitHub calls, no model."""
