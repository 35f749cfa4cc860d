"""What counts as a message already written: the draft goes in with `git commit -v`, another
comment character and a comment-only template, and still never over words someone wrote."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commits.conftest import Git, wait_for

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}
WAIT = {"SMOLBOT_COMMIT_WAIT_MS": "240000", **NO_MODEL}
SCISSORS = "------------------------ >8 ------------------------"


def staged_with_draft(g: Git) -> Path:
    g.write("docs/usage.md", "# Usage\n\nRun `shop serve`.\n")
    g("add", "docs/usage.md", env=NO_MODEL)
    draft = g.draft_file()
    wait_for(draft.is_file, timeout=60)
    return draft


@pytest.mark.parametrize(
    "args",
    [
        ["commit", "-v"],
        ["-c", "commit.verbose=true", "commit"],
        ["-c", "core.commentChar=;", "commit"],
        ["-c", "core.commentChar=;", "commit", "-v"],
        ["-c", "core.commentChar=auto", "commit"],
        ["-c", "commit.template={tpl}", "commit"],
    ],
    ids=["-v", "commit.verbose", "commentChar", "commentChar -v", "commentChar auto", "template"],
)
def test_the_editor_gets_the_draft(repo: Git, tmp_path: Path, args: list[str]) -> None:
    """Each of these stopped drafting: git's diff under the scissors line, `;` comments or a
    template's comments were taken for a message (and an untouched one aborted the commit)."""
    tpl = tmp_path / "template.txt"
    tpl.write_text("\n# Why this change? Which issue?\n")
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    draft = staged_with_draft(repo)
    repo(*[a.format(tpl=tpl) for a in args], env=WAIT)
    assert repo.last_message() == draft.read_text().strip()


@pytest.mark.parametrize("comment", ["#", ";"])
def test_the_pre_commit_framework_entry_reads_the_file_as_git_does(
    repo: Git, tmp_path: Path, comment: str
) -> None:
    """`smolbot hook run prepare-commit-msg` (the pre-commit framework's hook) decides the same."""
    repo("config", "core.commentChar", comment)
    repo.write("docs/usage.md", "# Usage\n\nRun `shop serve`.\n")
    repo("add", "docs/usage.md")
    assert repo.smolbot("draft", env=NO_MODEL).returncode == 0  # no hooks here: drafted now
    draft = repo.draft_file()
    verbose = f"\n{comment} Enter the message.\n{comment} {SCISSORS}\ndiff --git a/x b/x\n+x\n"
    cases = {
        "": (verbose, True),
        "template": (f"\n{comment} a comment-only template\n", True),
        "template ": ("fix: the template's words\n", False),  # words of a template stay
        "message": ("fix: my words\n" + verbose, False),
    }
    for source, (text, drafted) in cases.items():
        msg = tmp_path / "COMMIT_EDITMSG"
        msg.write_text(text)
        out = repo.smolbot("hook", "run", "prepare-commit-msg", str(msg), source.strip(), env=WAIT)
        assert out.returncode == 0, out.stderr
        expected = draft.read_text().rstrip("\n") + "\n\n" + text if drafted else text
        assert msg.read_text() == expected, source


def test_a_template_with_words_is_kept_under_v(repo: Git, tmp_path: Path) -> None:
    tpl = tmp_path / "template.txt"
    tpl.write_text("fix: the template's words\n\n# Why?\n")
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    draft = staged_with_draft(repo)
    edit = {"GIT_EDITOR": "sed -i '1a edited'"}  # git refuses an unedited template
    repo("-c", f"commit.template={tpl}", "commit", "-v", env={**WAIT, **edit})
    message = repo.last_message()
    assert (
        message.startswith("fix: the template's words") and draft.read_text().strip() not in message
    )


TICKET_HOOK = """#!/bin/sh
# the ticket from the branch name (feature/ABC-123-cart) in front of the message
case "$2" in ''|template) ;; *) exit 0 ;; esac
t=$(git symbolic-ref --short HEAD | grep -o '[A-Z]\\+-[0-9]\\+')
[ -n "$t" ] && {{ printf '{prefix}\\n' "$t"; cat "$1"; }} > "$1.tmp" && mv "$1.tmp" "$1"
exit 0
"""
TRAILER_HOOK = '#!/bin/sh\necho "Signed-off-by: Team <team@example.com>" >> "$1"\n'


@pytest.mark.parametrize(
    ("hook", "expected"),
    [
        (TICKET_HOOK.format(prefix="%s: "), "ABC-123: {subject}{rest}"),
        (TICKET_HOOK.format(prefix="[%s]"), "[ABC-123] {subject}{rest}"),
        (TRAILER_HOOK, "{draft}\n\nSigned-off-by: Team <team@example.com>"),
    ],
    ids=["ticket prefix", "bracketed ticket", "trailer"],
)
def test_a_kept_hooks_words_are_not_taken_for_the_users(
    repo: Git, tmp_path: Path, hook: str, expected: str
) -> None:
    """The kept hook runs first: a ticket prefix (`ABC-123: `) or a trailer it wrote was taken for
    a message the user wrote, and the draft never came. The draft goes in with them."""
    kept = repo.git_path("hooks") / "prepare-commit-msg"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(hook)
    kept.chmod(0o755)
    repo("checkout", "-q", "-b", "feature/ABC-123-cart")
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    draft = staged_with_draft(repo).read_text().strip()
    subject, _, rest = draft.partition("\n")
    repo("commit", env=WAIT)
    assert repo.last_message() == expected.format(draft=draft, subject=subject, rest=rest)
    repo.write("docs/usage.md", "# Usage\n\nRun `shop serve --port 8000`.\n")
    repo("add", "docs/usage.md", env=NO_MODEL)
    repo("commit", "-m", "docs: name the port", env=WAIT)  # a message given stays as it is
    assert repo.last_message().splitlines()[0] == "docs: name the port"


@pytest.mark.parametrize(
    ("source", "text", "expected"),
    [
        ("", "ABC-123: \n\n# Enter the message.\n", "ABC-123: {subject}{rest}\n\n# Enter the message.\n"),
        ("", "[ABC-123]\n# Enter the message.\n", "[ABC-123] {subject}{rest}\n# Enter the message.\n"),
        ("", "\n# Enter the message.\nSigned-off-by: T\n", "{draft}\n\n\n# Enter the message.\nSigned-off-by: T\n"),
        ("", "WIP\n# Enter the message.\n", "{draft}\n\nWIP\n# Enter the message.\n"),
        ("template", "ABC-123: \n# the template's words stay\n", None),
    ],
    ids=["ticket prefix", "bracketed ticket", "trailer", "a line of its own", "template"],
)  # fmt: skip
def test_the_pre_commit_framework_entry_keeps_an_earlier_hooks_words(
    repo: Git, tmp_path: Path, source: str, text: str, expected: str | None
) -> None:
    """Under the pre-commit framework a hook listed before ours writes into the file first: with
    no source git wrote no message, so its words are its own, not the user's."""
    repo.write("docs/usage.md", "# Usage\n\nRun `shop serve`.\n")
    repo("add", "docs/usage.md")
    assert repo.smolbot("draft", env=NO_MODEL).returncode == 0  # no hooks here: drafted now
    draft = repo.draft_file().read_text().strip()
    subject, _, rest = draft.partition("\n")
    msg = tmp_path / "COMMIT_EDITMSG"
    msg.write_text(text)
    out = repo.smolbot("hook", "run", "prepare-commit-msg", str(msg), source, env=WAIT)
    assert out.returncode == 0, out.stderr
    want = text if expected is None else expected.format(draft=draft, subject=subject, rest=rest)
    assert msg.read_text() == want
