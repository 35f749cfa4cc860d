"""Webhook intake tests."""


def opened(number: int) -> dict[str, object]:
    """An issues.opened payload with what GitHub's App webhook always sends."""
    return {
        "action": "opened",
        "installation": {"id": 1},
        "repository": {"full_name": "o/r"},
        "issue": {"number": number},
    }
