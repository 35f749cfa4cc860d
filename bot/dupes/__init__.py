"""Duplicate search over the store's copy of a repository's issues (TF-IDF cosine)."""

from bot.dupes.cache import INDEXES, IndexCache
from bot.dupes.index import Doc, DuplicateIndex, docs_from_store

__all__ = ["INDEXES", "Doc", "DuplicateIndex", "IndexCache", "docs_from_store"]
