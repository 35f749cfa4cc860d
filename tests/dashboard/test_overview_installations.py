"""The overview's repositories table finds each repository's account by its installation id,
once: it searched every installation for every repository (repositories x installations steps
of Jinja: 1,000 installations of 10 repositories each took 11 s to render)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.store import Store
from tests.dashboard.conftest import TOKEN

INSTALLATIONS, REPOS_EACH = 40, 3


class Counted(list[dict[str, Any]]):
    """The installations, counting the steps taken through them."""

    steps = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for item in super().__iter__():
            self.steps += 1
            yield item


def test_each_repository_s_account_is_found_without_a_search(
    dash_app: FastAPI, dash_store: Store
) -> None:
    for i in range(INSTALLATIONS):
        dash_store.upsert_installation(1000 + i, f"acct{i}", "User")
        repos = [{"full_name": f"acct{i}/r{j}", "id": i * 100 + j} for j in range(REPOS_EACH)]
        dash_store.add_repositories(1000 + i, repos)
    dash_store.set_installation_suspended(1007, True)
    client = TestClient(dash_app, follow_redirects=False)
    assert client.post("/login", data={"token": TOKEN}).status_code == 303

    page = client.get("/")
    assert page.status_code == 200
    cells = re.findall(r"<tr><td>(\d+)</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>", page.text)
    accounts = {repo: account for _, account, repo in cells}
    assert accounts["acct39/r2"] == "acct39" and accounts["acct7/r0"] == "acct7 (suspended)"
    assert accounts["octo-org/sample-app"] == "octo-org"

    installations = Counted(page.context["installations"])  # type: ignore[attr-defined]
    again = page.template.render({**page.context, "installations": installations})  # type: ignore[attr-defined]
    assert again == page.text
    repositories = len(page.context["repositories"])  # type: ignore[attr-defined]
    assert installations.steps <= len(installations), (
        f"{installations.steps} steps through {len(installations)} installations"
        f" for {repositories} repositories"
    )
