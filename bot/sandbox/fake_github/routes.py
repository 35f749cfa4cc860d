"""The fake's route table: method, path pattern, handler, and which credential it needs."""

from __future__ import annotations

import re

from bot.sandbox.fake_github.files import contents, contents_root, permission, timeline
from bot.sandbox.fake_github.installs import (
    access_token,
    get_app,
    get_installation,
    get_repo,
    installation_repos,
    list_installations,
    rate_limit,
    repo_installation,
)
from bot.sandbox.fake_github.issues import (
    add_issue_labels,
    comment,
    create_comment,
    create_issue,
    create_label,
    edit_issue,
    get_issue,
    issue_comments,
    issue_labels,
    list_issues,
    remove_issue_label,
    repo_labels,
)
from bot.sandbox.fake_github.web import Handler, Req, Resp, not_found

__all__ = ["ROUTES", "Req", "Resp", "not_found"]

R = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], Handler, str]] = [
    (m, re.compile(p + r"\Z"), h, auth)
    for m, p, h, auth in [
        ("GET", r"/app", get_app, "jwt"),
        ("POST", r"/app/installations/(\d+)/access_tokens", access_token, "jwt"),
        ("GET", r"/app/installations", list_installations, "jwt"),
        ("GET", r"/app/installations/(\d+)", get_installation, "jwt"),
        ("GET", r"/installation/repositories", installation_repos, "token"),
        ("GET", r"/rate_limit", rate_limit, "token"),
        ("GET", R + r"/installation", repo_installation, "jwt"),
        ("GET", R, get_repo, "repo"),
        ("GET", R + r"/issues", list_issues, "repo"),
        ("POST", R + r"/issues", create_issue, "repo"),
        ("GET", R + r"/issues/(\d+)", get_issue, "repo"),
        ("PATCH", R + r"/issues/(\d+)", edit_issue, "repo"),
        ("GET", R + r"/issues/(\d+)/labels", issue_labels, "repo"),
        ("POST", R + r"/issues/(\d+)/labels", add_issue_labels, "repo"),
        ("DELETE", R + r"/issues/(\d+)/labels/(.+)", remove_issue_label, "repo"),  # "/" as is
        ("GET", R + r"/issues/(\d+)/comments", issue_comments, "repo"),
        ("POST", R + r"/issues/(\d+)/comments", create_comment, "repo"),
        ("GET", R + r"/issues/comments/(\d+)", comment, "repo"),
        ("PATCH", R + r"/issues/comments/(\d+)", comment, "repo"),
        ("DELETE", R + r"/issues/comments/(\d+)", comment, "repo"),
        ("GET", R + r"/issues/(\d+)/timeline", timeline, "repo"),
        ("GET", R + r"/labels", repo_labels, "repo"),
        ("POST", R + r"/labels", create_label, "repo"),
        ("GET", R + r"/collaborators/([^/]+)/permission", permission, "repo"),
        ("GET", R + r"/contents/?", contents_root, "repo"),
        ("GET", R + r"/contents/(.+)", contents, "repo"),
    ]
]
