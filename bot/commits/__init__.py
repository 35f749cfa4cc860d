"""Commit-message drafting: git hooks, a background drafter keyed by the staged tree, and the drafting pipeline."""
