"""Bundled sample data: the repository `octo-org/sample-app` in GitHub REST shapes, offline.

`load_sample()` returns one dict (schema 1):

- ``now``: ISO-8601 UTC instant the data is relative to ("2026-11-23T09:00:00Z", a Monday).
  Use it as the injected clock so ages ("waiting 20 days") stay the same forever.
- ``repository``: REST repository object (``full_name``, ``html_url``, ``owner``, ...).
- ``installation``: ``{"id", "account": {"login", "type"}}`` of the pretend App installation.
- ``bot_login``: the App's login (``smolbot[bot]``).
- ``collaborators``: ``[{"login", "permission"}]`` (admin | maintain | write) - the maintainers.
- ``labels``: ``[{"name", "color", "description"}]``.
- ``config``: text of the repository's ``.github/smolbot.yml``.
- ``issues``: REST issue objects (``number``, ``title``, ``body``, ``state``, ``state_reason``,
  ``user{login,type}``, ``author_association``, ``labels[{name,...}]``, ``assignees``,
  ``comments`` (count), ``created_at``, ``updated_at``, ``closed_at``, ``html_url``,
  ``reactions{"+1",...,"total_count"}``; pull requests carry a ``pull_request`` key, as in REST).
- ``comments``: ``{"<number>": [{"id", "user{login,type}", "author_association", "created_at",
  "updated_at", "body", "html_url"}]}``.
- ``events``: ``{"<number>": [{"id", "event", "actor{login,type}", "created_at", ...}]}``,
  timeline-like: ``labeled``/``unlabeled`` carry ``label{name,color}``, ``assigned`` carries
  ``assignee``, ``closed`` carries ``state_reason``; also ``reopened``, ``marked_as_duplicate``.

What is in it: ~30 issues over three weeks before ``now`` (bugs with and without versions or
steps, features, questions, docs), a regression with a 27-comment thread and two issues closed
as "Duplicate of #210" plus two likely duplicates not yet marked, issues waiting on their author
under ``needs-info`` for 20+ days, issues waiting on a maintainer, security reports, a pinned
roadmap issue, a pull request, and several new issues without labels for triage.

`load_sample(history=True)` adds the repository's older, closed, labeled issues (#1-#199, from
``history.jsonl``: bugs, enhancements, questions and docs from 2024 to 2026, one kind label each),
the history an installation's backfill teaches triage from. Hand-written for the sample; fewer than
the 300 that start the background encoder tune (bot/llm/tune.py), so the demo stays light.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SAMPLE_REPO = "octo-org/sample-app"


def load_sample(*, history: bool = False) -> dict[str, Any]:
    """The bundled sample repository (a fresh copy each call; callers may mutate it)."""
    text = resources.files(__name__).joinpath("sample_repo.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    if history:
        data["issues"] = load_history(data) + data["issues"]
    return data


def load_history(sample: dict[str, Any]) -> list[dict[str, Any]]:
    """The older closed issues as REST issue objects, numbered from 1 in the order they were opened."""
    text = resources.files(__name__).joinpath("history.jsonl").read_text(encoding="utf-8")
    rows = sorted((json.loads(line) for line in text.splitlines() if line.strip()), key=_opened)
    url = sample["repository"]["html_url"]
    first = min(i["number"] for i in sample["issues"])
    if len(rows) >= first:
        raise ValueError(f"history.jsonl has {len(rows)} issues; numbers must stay below #{first}")
    return [
        {
            "id": 900000 + n,
            "number": n,
            "title": r["title"],
            "body": r["body"],
            "user": {"login": r["user"], "type": "User"},
            "author_association": "NONE",
            "state": "closed",
            "state_reason": "completed",
            "locked": False,
            "labels": [{"name": r["label"]}],
            "assignees": [],
            "assignee": None,
            "milestone": None,
            "comments": 0,
            "created_at": r["created_at"],
            "updated_at": r["closed_at"],
            "closed_at": r["closed_at"],
            "html_url": f"{url}/issues/{n}",
            "url": f"{url}/issues/{n}".replace("github.com/", "api.github.com/repos/"),
            "reactions": {"total_count": 0},
        }
        for n, r in enumerate(rows, start=1)
    ]


def _opened(row: dict[str, Any]) -> str:
    return str(row["created_at"])
