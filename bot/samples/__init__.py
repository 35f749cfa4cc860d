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
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SAMPLE_REPO = "octo-org/sample-app"


def load_sample() -> dict[str, Any]:
    """The bundled sample repository (a fresh copy each call; callers may mutate it)."""
    text = resources.files(__name__).joinpath("sample_repo.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
