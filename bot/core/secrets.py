"""What looks like a credential: never sent to a large model (a staged diff), never posted (a
model's text that copied one from an issue)."""

from __future__ import annotations

import math
import re
from collections import Counter

PATTERNS: dict[str, re.Pattern[str]] = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    "AWS secret key": re.compile(
        r"(?i)aws.{0,20}(secret|private).{0,20}['\"=:\s]([A-Za-z0-9/+=]{40})\b"
    ),
    "GitHub token": re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b"),
    "private key block": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
    "Slack webhook": re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]{20,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    "Stripe key": re.compile(r"\b[sr]k_live_[0-9A-Za-z]{20,}\b"),
    "OpenAI-style key": re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{32,}\b"),
}
# A keyword anywhere in a name, then at most 40 more name characters: the unbounded runs of name
# characters before and after it made a long `a.a.a.` line quadratic (40 KB took 36 s). The name
# may be quoted (JSON `"api_key": "…"`, a dict literal, PHP's `'password' => '…'`).
GENERIC = re.compile(
    r"(?i)(api[_-]?key|secret|token|passw(or)?d|access[_-]?key)"
    r"[a-z0-9_.-]{0,40}\b['\"]?\s*(?::|=>?)\s*['\"]?([A-Za-z0-9_\-+/=.]{16,})['\"]?"
)


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0


def credentials(text: str) -> list[str]:
    """Kinds of credentials in text (never the credential itself)."""
    found = [name for name, pat in PATTERNS.items() if pat.search(text)]
    for m in GENERIC.finditer(text):
        value = m.group(3)
        if entropy(value) >= 3.5 and not value.isalpha():
            found.append(f"high-entropy {m.group(1).lower()} assignment")
            break
    return sorted(set(found))
