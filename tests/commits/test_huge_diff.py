"""A staged diff past PATCH_CAP in all (a data import of many files under the 1 MB cut) is not read
whole: every file is listed from git's line counts, and only the smallest code files' diffs are
read. A hundred 900 KB files took 330 MB and 10 s of reading, splitting and scanning for a draft
that shows the model 6,000 characters, again after every `git add`."""

from __future__ import annotations

from collections.abc import Callable

from bot.commits import diffs
from bot.commits.git import PATCH_CAP, Repo
from bot.commits.pipeline import SAMPLE_BYTES, DraftOptions, draft_tree, staged_changes
from tests.commits.conftest import Git

ROW = "{n},row {n},some text about row {n} and padding padding padding\n"


def rows(size: int) -> str:
    out, n, total = [], 0, 0
    while total < size:
        out.append(ROW.format(n=n))
        total += len(out[-1])
        n += 1
    return "".join(out)


def test_a_huge_staged_diff_is_listed_and_sampled_not_read_whole(
    make_repo: Callable[..., Git],
) -> None:
    g = make_repo(history=False)
    g.write("src/old_name.py", "def save():\n    return 1\n" * 5)
    g.write("src/app.py", "print(1)\n")
    g("add", ".")
    g("commit", "-q", "--no-verify", "-m", "feat: init")
    data = rows(900_000)
    # past the cap in all, each file under the 1 MB cut (and never a disk's worth)
    count = min(PATCH_CAP // len(data) + 2, 40)
    for i in range(count):
        g.write(f"data/f{i:03}.csv", data)
    g.write("src/app.py", "print(2)\n")
    g("mv", "src/old_name.py", "src/new_name.py")
    g.write("logo.png", "")
    (g.root / "logo.png").write_bytes(b"\x89PNG\0\1")
    g("add", ".")
    repo = Repo(g.root)
    changes, note = staged_changes(repo, repo.head_tree(), repo.staged_tree())
    by_path = {c.path: c for c in changes}
    assert note is not None and f"{len(changes)} files listed" in note
    assert len(changes) == count + 3
    assert sum(len(c.patch) for c in changes) <= SAMPLE_BYTES  # what was held
    assert "+print(2)" in by_path["src/app.py"].patch  # the smallest are read
    renamed = by_path["src/new_name.py"]
    assert (renamed.status, renamed.added, renamed.deleted) == ("R", 0, 0)
    assert by_path["logo.png"].binary and by_path["logo.png"].kind == "binary"
    lines = data.count("\n")
    assert all(by_path[f"data/f{i:03}.csv"].added == lines for i in range(count))
    result = draft_tree(repo, repo.staged_tree(), None, DraftOptions())
    assert result is not None and note in result.notes
    flat = " ".join(result.message.split())  # the body is filled to 72 columns
    assert f"- {diffs.more_line(changes[11:])}" in flat  # every file counted


def test_a_diff_under_the_cap_is_read_whole(make_repo: Callable[..., Git]) -> None:
    g = make_repo()
    g.write("data/a.csv", rows(200_000))
    g.write("src/shop/cart.py", "def total(items):\n    return 0\n")
    g("add", ".")
    repo = Repo(g.root)
    changes, note = staged_changes(repo, repo.head_tree(), repo.staged_tree())
    assert note is None
    assert all(c.patch for c in changes) and len(changes[0].patch) > 200_000
