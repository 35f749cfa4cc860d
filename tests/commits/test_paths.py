"""File names as git writes them: spaces (a TAB after ---/+++), C quoting, octal bytes, typechanges."""

from __future__ import annotations

from collections.abc import Callable

from bot.commits import diffs
from bot.commits.git import Repo
from bot.commits.pipeline import DraftOptions, draft_tree
from bot.commits.style import infer_scope, learn
from tests.commits.conftest import Git

ODD = ["my app/package-lock.json", "read me.md", 'say "hi".py', "café.py", "tab\there.py"]


def started(make_repo: Callable[..., Git]) -> Git:
    g = make_repo(history=False)
    g.write("base.txt", "x\n")
    g("add", "base.txt")
    g("commit", "-q", "--no-verify", "-m", "chore: start")
    return g


def draft(g: Git) -> str:
    repo = Repo(g.root)
    result = draft_tree(repo, repo.staged_tree(), None, DraftOptions())
    assert result is not None
    return result.message


def test_odd_names_are_read_whole_however_git_quotes_them(make_repo: Callable[..., Git]) -> None:
    g = started(make_repo)
    for name in ODD:
        g.write(name, "{}\n")
    g.write("my app/lo go.png", "")
    (g.root / "my app/lo go.png").write_bytes(b"\x89PNG\0\1")
    g("add", ".")
    head = g("rev-parse", "HEAD^{tree}").stdout.strip()
    for quotepath in ("on", "off"):  # on: octal escapes for café.py
        patch = g("-c", f"core.quotepath={quotepath}", "diff-tree", "-r", "-p", head, g.tree())
        changes = {c.path: c for c in diffs.changes_from_patch(patch.stdout)}
        assert sorted(changes) == sorted([*ODD, "my app/lo go.png"])
        assert changes["my app/package-lock.json"].kind == "lock"
        assert changes["my app/lo go.png"].kind == "binary"


def test_a_lock_file_in_a_spaced_directory_is_summarized_not_pasted(
    make_repo: Callable[..., Git],
) -> None:
    g = started(make_repo)
    g.write("my app/package-lock.json", '{"lockfileVersion": 3}\n')
    g.write("my app/main.py", "print(1)\n")
    g("add", ".")
    repo = Repo(g.root)
    changes = diffs.changes_from_patch(repo.patch(repo.head_tree(), repo.staged_tree())[0])
    shown = diffs.render(diffs.fit(changes, 6000))
    assert "add my app/package-lock.json (lock file, +1 -0 lines, not shown)" in shown
    assert "lockfileVersion" not in shown


def test_drafts_name_odd_files_plainly_and_scopes_are_clean(make_repo: Callable[..., Git]) -> None:
    g = started(make_repo)
    g.write("sub dir/x y.txt", "y\n")
    g("add", ".")
    assert draft(g) == "docs(sub-dir): add sub dir/x y.txt\n"
    g("commit", "-q", "--no-verify", "-m", "docs: x y")
    g.write("read me.md", "hi\n")
    g("add", ".")
    assert draft(g) == "docs: add read me.md\n"
    g("commit", "-q", "--no-verify", "-m", "docs: read me")
    g.write('say "hi".py', "print('hi')\n")
    g("add", ".")
    assert draft(g) == 'feat: add say "hi".py\n'


def test_scopes_from_paths_and_history_are_cleaned() -> None:
    assert infer_scope(["sub dir/x.py"], learn([])) == "sub-dir"
    style = learn([("feat(My UI): add it", ["ui/x.py"])])
    assert infer_scope(["ui/y.py"], style) == "my-ui"


def test_a_symlink_turned_into_a_file_is_one_change(make_repo: Callable[..., Git]) -> None:
    g = started(make_repo)
    g.write("target.py", "x = 1\n")
    (g.root / "link.py").symlink_to("target.py")
    g("add", ".")
    g("commit", "-q", "--no-verify", "-m", "feat: link")
    (g.root / "link.py").unlink()
    g.write("link.py", "y = 2\n")
    g("add", ".")
    assert " link.py | 2 +-" in g("diff", "--cached", "--stat").stdout
    repo = Repo(g.root)
    changes = diffs.changes_from_patch(repo.patch(repo.head_tree(), repo.staged_tree())[0])
    assert [(c.path, c.status, c.added, c.deleted) for c in changes] == [("link.py", "T", 1, 1)]
    assert "-target.py" in changes[0].patch and "+y = 2" in changes[0].patch
    assert draft(g).splitlines()[0].endswith(": turn link.py from a symlink into a file")


def test_a_large_text_file_is_summarised_not_pasted(make_repo: Callable[..., Git]) -> None:
    """A staged 300 MB SQL dump was read whole, split and scanned several times (git calls a
    file binary only past core.bigFileThreshold, 512 MiB): past 1 MB it is named, not pasted."""
    g = started(make_repo)
    g.write("dump.sql", "insert into t values (1, 'a row of data');\n" * 40_000)  # 1.8 MB
    g.write("src/app.py", "print('hi')\n")
    g("add", ".")
    repo = Repo(g.root)
    patch, whole = repo.patch(g("rev-parse", "HEAD^{tree}").stdout.strip(), repo.staged_tree())
    assert whole
    assert "Binary files /dev/null and b/dump.sql differ" in patch
    assert "+print('hi')" in patch and len(patch) < 5_000
    assert "dump.sql" in draft(g)


def test_signatures_shown_by_log_are_no_file_names(make_repo: Callable[..., Git]) -> None:
    """log.showSignature=true put gpg's "No signature" lines into each commit's file list."""
    g = started(make_repo)
    g("config", "log.showSignature", "true")
    ((message, files),) = Repo(g.root).history()
    assert message.strip() == "chore: start" and files == ["base.txt"]
