"""Secret detection in staged diffs: a diff with a likely secret never goes to a large model, and
a drafted message never repeats one."""

from __future__ import annotations

from bot.core.secrets import GENERIC, PATTERNS, credentials, entropy

VALUE_GROUP = {"AWS secret key": 2}  # the pattern's text around the secret is not the secret


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


def secret_values(text: str) -> dict[str, str]:
    """The likely secrets in `text` (what the model was shown), each with its kind: a model may
    repeat one without the `name = ` that made it recognizable (`set the password to 9fQ…`)."""
    found = {
        m.group(VALUE_GROUP.get(kind, 0)): kind
        for kind, pat in PATTERNS.items()
        for m in pat.finditer(text)
    }
    for m in GENERIC.finditer(text):
        value = m.group(3)
        if entropy(value) >= 3.5 and not value.isalpha():
            found[value] = f"high-entropy {m.group(1).lower()} assignment"
    return found


def secrets_in(line: str, shown: dict[str, str]) -> list[str]:
    """Kinds of secrets in a line of a drafted message: credentials by their look, and the
    secrets the model was shown (`shown`, from secret_values) by their text."""
    return sorted(set(credentials(line)) | {kind for v, kind in shown.items() if v in line})
