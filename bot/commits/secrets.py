"""Secret detection in staged diffs: a diff with a likely secret never goes to a large model."""

from __future__ import annotations

from bot.core.secrets import credentials


def find_secrets(diff: str, *, added_only: bool = False) -> list[str]:
    """Kinds of secrets in a diff (never the secret itself).

    Every line counts by default, removed and context lines too: they are sent to the model as
    much as added ones. `added_only` asks about what the change itself brings in.
    """
    text = diff
    if added_only:
        text = "\n".join(
            line[1:]
            for line in diff.splitlines()
            if line.startswith("+") and not line.startswith("+++")
        )
    return credentials(text)
