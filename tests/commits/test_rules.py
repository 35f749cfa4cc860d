"""Pure parts of drafting, table-driven: secrets, format repair, style learning, diff budgets, retrieval."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commits import diffs
from bot.commits.drafts import DraftResult
from bot.commits.message import MAX_SUBJECT, CommitDraft, compose, problems
from bot.commits.model import FileSummary
from bot.commits.pipeline import DraftOptions, draft_changes
from bot.commits.retrieval import similar
from bot.commits.secrets import find_secrets
from bot.commits.style import CC_SUBJECT, Style, infer_scope, infer_type, learn
from bot.llm.api import Answer, ModelRecord

CC = learn(
    [("feat(cart): add totals", ["src/shop/cart.py"]), ("fix(pay): round", ["src/shop/pay.py"])]
)
PLAIN = learn([("Add totals to the cart", ["cart.py"]), ("Fix rounding in payments", ["pay.py"])])


def patch(path: str, added: list[str], *, new: bool = False) -> str:
    head = f"diff --git a/{path} b/{path}\n" + ("new file mode 100644\n" if new else "")
    head += f"--- {'/dev/null' if new else 'a/' + path}\n+++ b/{path}\n@@ -0,0 +1,{len(added)} @@ def here():\n"
    return head + "".join(f"+{line}\n" for line in added)


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("aws_key = 'AKIAIOSFODNN7EXAMPLE'", "AWS access key id"),
        ("token: ghp_" + "a1B2c3D4e5" * 4, "GitHub token"),
        ("t = 'github_pat_" + "11ABCDEFG0" * 5 + "'", "GitHub token"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "private key block"),
        ("SLACK = 'xoxb-1234567890-abcdefghij'", "Slack token"),
        ("api_key = 'q8Zr2Lx9Vb4Nm7Kp3Wd6'", "high-entropy api_key assignment"),
    ],
)
def test_secrets_are_found_on_added_lines(line: str, kind: str) -> None:
    assert kind in find_secrets(patch("conf.py", [line]))


@pytest.mark.parametrize(
    "line", ["api_key = os.environ['API_KEY']", "token = 'aaaaaaaaaaaaaaaaaaaa'", "x = 1"]
)
def test_ordinary_code_is_not_a_secret(line: str) -> None:
    assert find_secrets(patch("conf.py", [line])) == []


def test_removed_secret_lines_are_flagged_but_not_as_added() -> None:
    removed = "--- a/x\n+++ b/x\n-key = 'AKIAIOSFODNN7EXAMPLE'\n"
    assert find_secrets(removed) == ["AWS access key id"]  # the model would see it all the same
    assert find_secrets(removed, added_only=True) == []


@pytest.mark.parametrize(
    ("draft", "expected"),
    [
        (
            CommitDraft(type="feat", scope="cart", subject="Add discounts."),
            "feat(cart): add discounts",
        ),
        (
            CommitDraft(type="feature", scope="", subject="add discounts"),
            "fix(cart): add discounts",
        ),
        (CommitDraft(type="fix", subject="fix(pay): round totals"), "fix(cart): round totals"),
        (
            CommitDraft(type="docs", scope="Read Me", subject="`explain setup`"),
            "docs(read-me): explain setup",
        ),
    ],
)
def test_compose_repairs_to_conventional_commits(draft: CommitDraft, expected: str) -> None:
    message, _ = compose(draft, CC, "fix", "cart")
    assert message.splitlines()[0] == expected
    assert problems(message, CC) == []


def test_plain_style_is_kept_when_the_repository_does_not_use_cc() -> None:
    assert not PLAIN.conventional and PLAIN.capitalized
    message, _ = compose(CommitDraft(type="feat", subject="add discounts"), PLAIN, "feat", None)
    assert message == "Add discounts\n"


@given(st.text(min_size=1, max_size=300).filter(lambda s: s.strip()), st.text(max_size=30))
def test_subject_always_fits(subject: str, scope: str) -> None:
    message, _ = compose(
        CommitDraft(type="feat", scope=scope[:40] or None, subject=subject), CC, "fix", None
    )
    first = message.splitlines()[0] if message.strip() else ""
    assert len(first) <= MAX_SUBJECT


def test_style_learns_scopes_from_paths() -> None:
    assert CC.conventional and CC.scopes["cart"] == 1
    assert infer_scope(["src/shop/cart.py"], CC) == "cart"
    assert infer_scope(["lib/thing/x.py"], Style()) == "thing"


@pytest.mark.parametrize(
    ("files", "statuses", "new", "expected"),
    [
        (["tests/test_a.py"], {}, False, "test"),
        (["docs/a.md", "README.md"], {}, False, "docs"),
        ([".github/workflows/ci.yml"], {}, False, "ci"),
        (["poetry.lock", "pyproject.toml"], {}, False, "build"),
        (["src/a.py"], {"src/a.py": "A"}, False, "feat"),
        (["src/a.py"], {"src/a.py": "M"}, True, "feat"),
        (["src/a.py"], {"src/a.py": "M"}, False, "fix"),
    ],
)
def test_type_from_paths(
    files: list[str], statuses: dict[str, str], new: bool, expected: str
) -> None:
    assert infer_type(files, statuses, Style(), new) == expected


def test_lock_and_binary_files_are_summarized_never_pasted() -> None:
    text = (
        patch("poetry.lock", ["x"] * 500)
        + patch("src/a.py", ["y = 1"])
        + (
            "diff --git a/logo.png b/logo.png\nnew file mode 100644\nBinary files /dev/null and b/logo.png differ\n"
        )
    )
    changes = diffs.fit(diffs.changes_from_patch(text), 2000)
    shown = diffs.render(changes)
    assert "add logo.png (binary file)" in shown and "update poetry.lock (lock file" in shown
    assert "+y = 1" in shown and "+x" not in shown


def test_a_large_diff_is_cut_with_a_visible_note() -> None:
    big = patch("src/big.py", [f"line_{i} = {i}" for i in range(2000)])
    changes = diffs.fit(diffs.changes_from_patch(big), 3000)
    shown = diffs.render(changes)
    assert len(shown) < 3500 and "more lines of src/big.py not shown" in shown


def test_retrieval_prefers_commits_touching_the_same_files() -> None:
    history = [
        ("docs: x", ["docs/a.md"]),
        ("fix(cart): y", ["src/shop/cart.py"]),
        ("feat: z", ["src/other.py"]),
    ]
    assert similar(["src/shop/cart.py"], history, k=2)[0] == "fix(cart): y"


class RecordingWriter:
    """A scripted model: returns a fixed draft and records whether escalation was allowed."""

    def __init__(self, draft: CommitDraft | None) -> None:
        self.draft = draft
        self.allowed: list[bool] = []
        self.prompts: list[str] = []

    def ask(
        self, prompt: str, variables: dict[str, str], schema: type[Any], *, allow_large: bool
    ) -> Answer[Any]:
        self.allowed.append(allow_large)
        self.prompts.append(prompt)
        self.seen = variables
        assert '<data id="diff">' not in variables["diff"]  # the layer fences; we pass raw data
        rec = ModelRecord("commit", "scripted", "scripted", f"{prompt}@1", 0.3, False, 1.0)
        value = (
            self.draft
            if schema is CommitDraft
            else FileSummary(summary=f"rework {variables['path']}")
        )
        return Answer(value, 0.3, rec, "not_escalated" if value else "no_answer")


def test_a_secret_in_the_diff_blocks_escalation_and_says_so() -> None:
    writer = RecordingWriter(CommitDraft(type="chore", subject="add config"))
    changes = diffs.changes_from_patch(patch("conf.py", ["KEY = 'AKIAIOSFODNN7EXAMPLE'"], new=True))
    result = draft_changes("t", changes, [], writer, DraftOptions(allow_large=True))
    assert writer.allowed == [False]
    assert any("not sent to the large model" in n for n in result.notes)


def test_no_valid_answer_falls_back_to_a_rule_made_draft() -> None:
    changes = diffs.changes_from_patch(patch("docs/a.md", ["hello"]))
    result = draft_changes("t", changes, [], RecordingWriter(None), DraftOptions())
    assert isinstance(result, DraftResult) and CC_SUBJECT.match(result.message.splitlines()[0])
    assert result.message.startswith("docs") and "deterministic" in " ".join(result.notes)


def test_large_diffs_are_summarized_per_file_by_the_model_then_merged() -> None:
    big = "".join(patch(f"src/m{i}.py", [f"v{j} = {j}" for j in range(400)]) for i in range(3))
    writer = RecordingWriter(CommitDraft(type="refactor", subject="rework modules"))
    result = draft_changes(
        "t",
        diffs.changes_from_patch(big),
        [],
        writer,
        DraftOptions(budget_chars=2000, file_summaries=2),
    )
    assert (
        writer.prompts.count("commit_message_file") == 2 and writer.prompts[-1] == "commit_message"
    )
    assert (
        "summarized by the model): rework src/m0.py" in writer.seen["diff"]
    )  # merged into the final prompt
    assert result.message.startswith("refactor: rework modules\n\n")  # large change: a body
    assert any("summarized instead of pasted" in n for n in result.notes)
