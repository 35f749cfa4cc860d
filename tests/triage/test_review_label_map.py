"""A label_map name is applied as the repository spells it.

The bot reads labels loosely (canon): with `label_map: {bug: 'type: bug'}` it reads the
repository's `Type: Bug 🐛` as that very label. It applied the configured name verbatim, though,
and GitHub creates any label it is asked to add that does not exist: a twin `type: bug` beside
the repository's own label."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.core.config import Kind, RepoConfig, config_from
from bot.core.labels import canon, find_label, kinds_named, label_for_kind
from bot.jobs.repo_config import load_repo_config
from bot.jobs.triage import handle_issue_event
from tests.triage.conftest import REPO, issue_payload
from tests.triage.fakes import FakeRepoHost

FULL = (
    "Version 2.3.1.\n\nSteps to reproduce:\n1. open\n2. click save\n\n"
    "Expected it to save, but instead it crashes:\n```\nTypeError: boom\n```"
)


def _mapped(name: str, kind: Kind = Kind.BUG) -> RepoConfig:
    return config_from({"triage": {"label_map": {kind.value: name}}})


def test_the_repositorys_spelling_is_applied() -> None:
    cfg = _mapped("type: bug")
    labels = ["Type: Bug 🐛", "Type: Feature ✨", "question"]
    assert label_for_kind(Kind.BUG, labels, cfg) == "Type: Bug 🐛"
    assert label_for_kind(Kind.BUG, [":bug: Type-Bug"], cfg) == ":bug: Type-Bug"
    # the label GitHub itself matches (case aside) before a loose one
    assert label_for_kind(Kind.BUG, ["Type: Bug 🐛", "TYPE: BUG"], cfg) == "TYPE: BUG"
    # not there (deleted or renamed since the map was written): none, so needs-triage, never
    # the label created again
    assert label_for_kind(Kind.BUG, ["bug", "question"], cfg) is None
    assert label_for_kind(Kind.BUG, [], cfg) is None
    # only the mapped kind: the others still by their common names
    assert label_for_kind(Kind.QUESTION, labels, cfg) == "question"


# a mapped name, and the repository's labels: spellings of it (case, separators, emoji) and others
_BASE = st.sampled_from(["type: bug", "T: defect", "kind/bug", "bug", "needs repro", "バグ"])
_SPELL = st.sampled_from(
    [
        lambda s: s,
        str.upper,
        str.title,
        lambda s: s + " 🐛",
        lambda s: ":bug: " + s,
        lambda s: s.replace(" ", "-").replace(":", ""),
        lambda s: s.replace("/", ": "),
    ]
)


@st.composite
def _repo_and_map(draw: Any) -> tuple[str, list[str]]:
    name = draw(_BASE)
    spellings = draw(st.lists(_SPELL.map(lambda f: f(name)), max_size=3))
    others = draw(st.lists(st.text(min_size=1, max_size=15), max_size=5))
    return draw(_SPELL)(name), draw(st.permutations([*spellings, *others]))


@given(_repo_and_map())
def test_a_mapped_label_never_twins_one_the_repository_has(case: tuple[str, list[str]]) -> None:
    """The label applied is one the bot reads as the mapped name, and the repository's own
    whenever it has one so read: never a new twin of it."""
    name, repo_labels = case
    got = label_for_kind(Kind.BUG, repo_labels, _mapped(name))
    if not any(canon(lb) == canon(name) for lb in repo_labels):
        assert got is None  # not created: needs-triage instead
        return
    assert got is not None and canon(got) == canon(name)
    assert kinds_named([got], _mapped(name)) == [Kind.BUG]
    assert got in repo_labels
    exact = find_label(repo_labels, name)
    if exact is not None:
        assert got == exact


def test_the_bot_adds_the_repositorys_label_not_a_twin(ctx: Any, host: FakeRepoHost) -> None:
    host.repo_labels = ["Type: Bug 🐛", "Type: Feature ✨", "question", "documentation"]
    host.files[".github/smolbot.yml"] = "triage:\n  label_map:\n    bug: 'type: bug'\n"
    cfg = load_repo_config(ctx.store, host, REPO, bot_login="smolbot[bot]")
    assert kinds_named(["Type: Bug 🐛"], cfg) == [Kind.BUG]
    n = host.add("App crashes with an exception when I click save", FULL).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert [w for k, w in host.writes if k == "add_labels"] == [(n, ("Type: Bug 🐛",))]
    assert host.issues[n].labels == ["Type: Bug 🐛"]
