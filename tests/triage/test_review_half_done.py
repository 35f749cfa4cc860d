"""Triage that fails half-way and is retried, and labels a repository spells its own way: found by
a review of the first responder's label and ask paths (each test fails with its fix undone)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.config import Kind, default_config, parse_config
from bot.core.labels import canon, is_untriaged, kinds_named
from bot.jobs.backfill import BOT_S_OWN, backfill_repo
from bot.jobs.commands import handle_comment_event
from bot.jobs.context import JobContext
from bot.jobs.triage import handle_issue_event
from bot.ports import RateLimited
from tests.triage.conftest import REPO, comment_payload, issue_payload
from tests.triage.fakes import FakeRepoHost
from tests.triage.test_jobs import BUG, FULL_BUG_BODY, audits, writes

CFG = default_config()
ASK = "smolbot:triage:needs-info"


def _fail_once(host: FakeRepoHost, method: str, when: str) -> None:
    """GitHub refuses the first call of `method` whose arguments mention `when` (a rate limit),
    as a worker would meet it half-way through a triage; later calls go through."""
    real = getattr(host, method)
    state = {"failed": False}

    def flaky(*args: object) -> object:
        if not state["failed"] and when in repr(args):
            state["failed"] = True
            raise RateLimited(60.0)
        return real(*args)

    setattr(host, method, flaky)


def _asks(host: FakeRepoHost) -> list[object]:
    return [b for (_, b) in writes(host, "comment") if ASK in str(b)]


def test_a_retry_after_the_needs_info_label_failed_still_puts_it_on(ctx, host):
    n = host.add(*BUG).number
    _fail_once(host, "add_labels", "needs-info")
    with pytest.raises(RateLimited):
        handle_issue_event(ctx, "d1", issue_payload(host, n))
    handle_issue_event(ctx, "d1", issue_payload(host, n))  # the queue's retry
    assert sorted(host.issues[n].labels) == ["bug", "needs-info"]
    assert len(_asks(host)) == 1
    assert not any("not put back" in r["reason"] for r in audits(ctx, n))


def test_a_retry_after_the_ask_failed_posts_it_once(ctx, host):
    n = host.add(*BUG).number
    _fail_once(host, "create_comment", ASK)
    with pytest.raises(RateLimited):
        handle_issue_event(ctx, "d1", issue_payload(host, n))
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert sorted(host.issues[n].labels) == ["bug", "needs-info"] and len(_asks(host)) == 1


@pytest.mark.parametrize("fails", ["remove_label", "create_comment"])
def test_a_retried_edit_finishes_the_triage_its_failed_attempt_began(ctx, host, fails):
    n = host.add("hmm", "see title").number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert host.issues[n].labels == ["needs-triage"]
    host.issues[n].title = BUG[0]
    host.issues[n].body = BUG[1]  # now a bug report, without the details
    _fail_once(host, fails, "needs-triage" if fails == "remove_label" else ASK)
    with pytest.raises(RateLimited):
        handle_issue_event(ctx, "d2", issue_payload(host, n, "edited"))
    assert "bug" in host.issues[n].labels  # the failed attempt's own label
    handle_issue_event(ctx, "d2", issue_payload(host, n, "edited"))  # the retry
    assert sorted(host.issues[n].labels) == ["bug", "needs-info"]
    assert len(_asks(host)) == 1
    # another delivery's edit of the now triaged issue is still left alone
    handle_issue_event(ctx, "d3", issue_payload(host, n, "edited"))
    assert any(r["reason"] == "edited, but already triaged" for r in audits(ctx, n))


def test_leaving_needs_info_on_after_an_edit_is_audited_with_its_reason(ctx, host):
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert "needs-info" in host.issues[n].labels
    host.issues[n].title = "Absturz beim Speichern"
    host.issues[n].body = (
        "Es stürzt jedes Mal ab, wenn ich auf Speichern klicke. Ich benutze die Version 2.3.1"
        " unter Windows, und vorher ging es noch."
    )
    handle_issue_event(ctx, "d2", issue_payload(host, n, "edited"))
    assert "needs-info" in host.issues[n].labels
    d2 = [r for r in audits(ctx, n) if r["delivery_id"] == "d2"]
    kept = [r for r in d2 if "left as it is" in r["reason"]]
    assert kept and kept[0]["outcome"] == "skipped", [(r["action"], r["reason"]) for r in d2]


def test_a_form_s_needs_triage_beside_its_kind_label_stays_for_a_maintainer(ctx, host):
    host.repo_labels = ["bug", "enhancement", "status: needs triage"]
    n = host.add(BUG[0], FULL_BUG_BODY, labels=["bug", "status: needs triage"]).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert sorted(host.issues[n].labels) == ["bug", "status: needs triage"]
    assert not writes(host, "remove_label")
    assert any("left for a maintainer" in r["reason"] for r in audits(ctx, n))


def test_a_retried_opened_triage_takes_off_the_form_s_needs_triage_it_meant_to(ctx, host):
    # the form adds only needs-triage; the bot's kind label goes on, then taking needs-triage
    # off fails: the retry must not read the bot's own `bug` as the form's
    n = host.add(BUG[0], FULL_BUG_BODY, labels=["needs-triage"]).number
    _fail_once(host, "remove_label", "needs-triage")
    with pytest.raises(RateLimited):
        handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert sorted(host.issues[n].labels) == ["bug", "needs-triage"]
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert host.issues[n].labels == ["bug"]


def test_the_bot_s_own_needs_triage_goes_once_a_retriage_knows_the_kind(ctx, host):
    # the counterpart: the bot's needs-triage is still taken off when it labels the kind
    n = host.add("hmm", "see title").number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    host.issues[n].title, host.issues[n].body = BUG[0], FULL_BUG_BODY
    handle_issue_event(ctx, "d2", issue_payload(host, n, "edited"))
    assert host.issues[n].labels == ["bug"]


def test_a_label_map_value_another_kind_uses_is_the_mapped_kind_s_only(
    ctx: JobContext, host: FakeRepoHost
) -> None:
    # `enhancement` is documentation's here: a feature gets the repository's `feature`, and a
    # retriage neither swaps nor removes it
    host.repo_labels.append("feature")
    host.files[".github/smolbot.yml"] = "triage:\n  label_map:\n    documentation: enhancement\n"
    n = host.add("Add dark mode please", "It would be great to have a dark theme option.").number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert host.issues[n].labels == ["feature"]
    handle_comment_event(ctx, "d2", comment_payload(host, n, "/smolbot retriage", "maint"))
    assert host.issues[n].labels == ["feature"]
    assert not [w for k, w in host.writes if k == "remove_label"]


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        (":bug: bug", Kind.BUG),
        ("Type: Bug :bug:", Kind.BUG),
        (":sparkles: enhancement", Kind.FEATURE),
        ("ℹ️ question", Kind.QUESTION),
        (":question: Question", Kind.QUESTION),
        (":memo: documentation", Kind.DOCUMENTATION),
    ],
)
def test_labels_with_emoji_shortcodes_name_their_kind(label: str, kind: Kind) -> None:
    assert kinds_named([label], CFG) == [kind]
    assert not is_untriaged([label], CFG)


def test_labels_a_shortcode_rule_must_not_merge_stay_apart() -> None:
    assert canon("1️⃣ priority") != canon("2️⃣ priority")  # a keycap's digit is the label
    assert canon("area:ui:web") != canon("area:web")  # colons between words, no shortcode
    assert canon("kind:docs:api") != canon("kind api")
    assert canon("type:bug") == canon("type: bug")


def test_an_emoji_only_label_is_still_itself() -> None:
    assert canon(":bug:") == ":bug:" and canon("🐛") == "🐛" and canon("🐛") != canon("✨")
    assert canon(":bug:") != canon(":sparkles:")


def test_a_label_map_to_an_emoji_label_reads_it_back() -> None:
    cfg = parse_config("triage:\n  label_map:\n    bug: ':beetle: defect'\n")
    assert kinds_named([":beetle: defect"], cfg) == [Kind.BUG]
    assert kinds_named(["defect"], cfg) == [Kind.BUG]  # the shortcode is decoration


@given(st.text(max_size=12), st.sampled_from([":bug:", ":rocket:", "ℹ️", "✨\ufe0f"]))
def test_an_emoji_beside_a_label_s_words_does_not_change_them(words: str, emoji: str) -> None:
    has_words = any(c.isalnum() for c in unicodedata.normalize("NFKC", words))
    if has_words and ":" not in words and "\ufe0f" not in words:
        assert canon(f"{emoji} {words}") == canon(words) == canon(f"{words} {emoji}")


def test_the_labels_a_delivery_put_on_are_found_on_both_stores_and_after_a_rename(
    any_store,
) -> None:
    def added(labels: list[str], did: str, repo: str = REPO) -> None:
        any_store.audit(
            "add_labels",
            "done",
            "x",
            delivery_id=did,
            repo=repo,
            number=3,
            detail={"labels": labels},
        )

    added(["Bug"], "d1")
    added(["needs-info"], "d2")
    any_store.audit("quarantine", "done", "hidden text", delivery_id="d3", repo=REPO, number=3)
    any_store.audit("add_labels", "skipped", "present", delivery_id="d4", repo=REPO, number=3)
    assert any_store.labels_added(REPO, 3) == {"bug", "needs-info"}
    assert any_store.labels_added(REPO, 3, "d1") == {"bug"}
    assert any_store.labels_added(REPO, 3, "d3") == set()  # only labels put on count
    assert any_store.labels_added(REPO, 4) == set()  # another issue
    any_store.add_repositories(1, [{"full_name": REPO, "id": 9}])
    any_store.rename_repository(REPO, "octo/app2")
    any_store.rename_repository("octo/app2", "neworg/app2")
    assert any_store.labels_added("neworg/app2", 3) == {
        "bug",
        "needs-info",
    }  # the audit keeps old names


def test_a_backfill_does_not_learn_the_bot_s_own_unchanged_guess(ctx, host):
    guessed = host.add(BUG[0], FULL_BUG_BODY).number
    handle_issue_event(ctx, "d1", issue_payload(host, guessed))
    assert host.issues[guessed].labels == ["bug"]  # the bot's label
    changed = host.add("Crash when I click save twice", FULL_BUG_BODY).number
    handle_issue_event(ctx, "d2", issue_payload(host, changed))
    host.issues[changed].labels = ["question"]  # a maintainer corrected it
    person = host.add("Crash on start", "It crashes.", labels=["bug"]).number  # a person's label
    for n in (guessed, changed, person):
        host.issues[n].state = "closed"
    result = backfill_repo(ctx, host, host.repo)
    assert result.not_learned.get(BOT_S_OWN) == 1
    assert result.learned == 2  # the corrected one and the person's


def _label_event(host: FakeRepoHost, n: int, action: str, label: str, sender: str) -> dict:  # type: ignore[type-arg]
    payload = issue_payload(host, n, action, sender=sender)
    payload["label"] = {"name": label}
    return payload


def _examples_of(ctx: JobContext, n: int) -> list[tuple[str, str]]:
    rows = ctx.store.db.query(
        "select label, source from llm_examples where scope = ? and issue = ?", [REPO, n]
    )
    return sorted((r["label"], r["source"]) for r in rows)


def test_a_kind_label_a_maintainer_takes_off_is_unlearned(ctx, host):
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", _label_event(host, n, "labeled", "bug", "maint"))
    assert _examples_of(ctx, n) == [("bug", "human")]
    handle_issue_event(ctx, "d2", _label_event(host, n, "unlabeled", "bug", "maint"))
    assert _examples_of(ctx, n) == []
    assert any(r["action"] == "unlearn" and r["outcome"] == "done" for r in audits(ctx, n))


def test_a_label_taken_off_after_another_was_put_on_leaves_the_new_one(ctx, host):
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", _label_event(host, n, "labeled", "bug", "maint"))
    handle_issue_event(ctx, "d2", _label_event(host, n, "labeled", "question", "maint"))
    handle_issue_event(ctx, "d3", _label_event(host, n, "unlabeled", "bug", "maint"))
    assert _examples_of(ctx, n) == [("question", "human")]


def test_only_someone_who_can_triage_unteaches(ctx, host):
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", _label_event(host, n, "labeled", "bug", "maint"))
    handle_issue_event(ctx, "d2", _label_event(host, n, "unlabeled", "bug", "alice"))
    assert _examples_of(ctx, n) == [("bug", "human")]
    handle_issue_event(ctx, "d3", _label_event(host, n, "unlabeled", "help wanted", "maint"))
    assert _examples_of(ctx, n) == [("bug", "human")]


def test_a_form_s_needs_triage_stays_when_the_body_holds_hidden_text(ctx, host):
    # a Markdown template's HTML comment is quarantined (an audit row of this delivery): that
    # is no kind label this delivery put on
    host.repo_labels = ["bug", "enhancement", "needs-triage"]
    body = f"<!-- describe the bug -->\n{FULL_BUG_BODY}"
    n = host.add(BUG[0], body, labels=["bug", "needs-triage"]).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert sorted(host.issues[n].labels) == ["bug", "needs-triage"]


def test_a_retry_after_the_ask_failed_keeps_the_form_s_needs_triage(ctx, host):
    host.repo_labels = ["bug", "enhancement", "needs-triage", "needs-info"]
    n = host.add(*BUG, labels=["bug", "needs-triage"]).number
    _fail_once(host, "create_comment", ASK)
    with pytest.raises(RateLimited):
        handle_issue_event(ctx, "d1", issue_payload(host, n))
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert sorted(host.issues[n].labels) == ["bug", "needs-info", "needs-triage"]
    assert len(_asks(host)) == 1


def test_a_label_taken_off_while_the_issue_keeps_its_kind_unteaches_nothing(ctx, host):
    n = host.add(*BUG).number
    host.issues[n].labels = ["bug"]
    handle_issue_event(ctx, "d1", _label_event(host, n, "labeled", "bug", "maint"))
    host.issues[n].labels = ["type: bug"]  # the same kind under the repository's other name
    handle_issue_event(ctx, "d2", _label_event(host, n, "unlabeled", "bug", "maint"))
    assert _examples_of(ctx, n) == [("bug", "human")]


def test_an_unlabeled_event_handled_after_the_label_came_back_unteaches_nothing(ctx, host):
    n = host.add(*BUG).number
    host.issues[n].labels = ["bug"]  # labeled, unlabeled, labeled again: the last is handled first
    handle_issue_event(ctx, "d1", _label_event(host, n, "labeled", "bug", "maint"))
    handle_issue_event(ctx, "d3", _label_event(host, n, "labeled", "bug", "maint"))
    handle_issue_event(ctx, "d2", _label_event(host, n, "unlabeled", "bug", "maint"))
    assert _examples_of(ctx, n) == [("bug", "human")]
