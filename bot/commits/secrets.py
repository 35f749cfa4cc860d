"""Secret detection in staged diffs: a diff with a likely secret never goes to a large model, and
a drafted message never repeats one."""

from __future__ import annotations

import re

from bot.core.secrets import GENERIC, PATTERNS, credentials, entropy

VALUE_GROUP = {"AWS secret key": 2}  # the pattern's text around the secret is not the secret
# A private key's body: base64 lines after its BEGIN line, to its END line (or the text's end),
# each maybe behind a diff's +, - or space. Only the BEGIN line looks like a key by itself.
KEY_BLOCK = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(.*?)(?:-----END |\Z)", re.DOTALL
)
KEY_LINE = re.compile(r"^[+\- ]?\s*([A-Za-z0-9+/=]{16,})\s*$", re.MULTILINE)
KEY_PIECE = 20  # a copied run of 2 * KEY_PIECE characters holds at least one whole piece
# What follows `token = ` can be a name, not a value: a setting or attribute path
# (`settings.webhook_token`, `Settings.webhook_secret`), a snake_case or UPPER_CASE name, a file
# path. A model is meant to name those in a message. A name's words are one case, digits only at
# their end (a class may come first): a random token's, and a JWT's base64 parts, mix them. A
# value under a password key is never taken for a name (`summer2024_prod_admin` is a password).
_WORDS = r"_*(?:[a-z]+[0-9]*(?:_+[a-z]+[0-9]*)*|[A-Z]+[0-9]*(?:_+[A-Z]+[0-9]*)*)"
_PATH_WORD = r"(?:[0-9]*[a-z]+[0-9]*|[0-9]+)"  # one run of letters: `qwen2`, `5b`, `0`
NAME_VALUE = re.compile(
    rf"(?:[A-Z][a-z]+[0-9]*|{_WORDS})(?:\.{_WORDS})+"  # an attribute path, a class first
    r"|_*(?:[a-z]+[0-9]*(?:_+[a-z]+[0-9]*)+|[A-Z]+[0-9]*(?:_+[A-Z]+[0-9]*)+)"  # snake, UPPER
    # a file path: a `/`, between its `/ . _ -` lower-case words (one run of letters each)
    rf"|(?=[^/]*/)[./]*{_PATH_WORD}(?:[._/-]+{_PATH_WORD})*/?"
)
_PASSWORD = re.compile(r"pass", re.IGNORECASE)


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
        named = NAME_VALUE.fullmatch(value) and not _PASSWORD.search(m.group(1))
        if entropy(value) >= 3.5 and not value.isalpha() and not named:
            found[value] = f"high-entropy {m.group(1).lower()} assignment"
    for block in KEY_BLOCK.finditer(text):
        for line in KEY_LINE.finditer(block.group(1)):
            body = line.group(1)
            for at in range(0, len(body) - KEY_PIECE + 1, KEY_PIECE):
                found[body[at : at + KEY_PIECE]] = "private key block"
    return found


def secrets_in(line: str, shown: dict[str, str]) -> list[str]:
    """Kinds of secrets in a line of a drafted message: credentials by their look, and the
    secrets the model was shown (`shown`, from secret_values) by their text."""
    return sorted(set(credentials(line)) | {kind for v, kind in shown.items() if v in line})
