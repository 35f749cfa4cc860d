"""What a summary claim must find in the comments it cites, and each claim said once: a reviewer's
run of `smolbot summarize --thread` on an upload thread credited the issue with an nginx config
it never mentions, called a too-low setting "set correctly", and listed one line twice. A claim
needed only 30 % of its words in its source."""

from __future__ import annotations

from bot.core import summary as S

URL = "https://github.com/o/r/issues/12"
UPLOADS = [
    S.Entry(0, "alice", S.AUTHOR, "Uploads over 10MB fail\n\nUploading a file larger than 10MB"
            " fails with HTTP 413. Smaller files upload fine.", URL),
    S.Entry(1, "bob", S.MAINTAINER, "Can you share your nginx config?", f"{URL}#issuecomment-1"),
    S.Entry(2, "alice", S.AUTHOR, "client_max_body_size 1m;", f"{URL}#issuecomment-2"),
    S.Entry(3, "bob", S.MAINTAINER, "That limit is too low. Raise it to 20m.",
            f"{URL}#issuecomment-3"),
]  # fmt: skip


def kept(items: list[S.Entry] = UPLOADS, **sections: list[str]) -> dict[str, list[str]]:
    return S.cited(S.ThreadSummary(**sections), items)[0].model_dump()


def test_a_claim_with_a_word_of_another_comment_is_not_put_on_the_issue() -> None:
    """The issue never names nginx, comment 1 does: 4 of the claim's 6 words in the issue passed
    it, cited to the issue; the reviewer's sentence (its 12MB in no comment) was put on comment 1."""
    assert kept(problem=["Uploads over 10MB fail with the nginx config [0]"])["problem"] == []
    claim = "the nginx config you use does not work with 12MB files [0]"
    assert kept(problem=[claim])["problem"] == []


def test_a_judgement_or_a_number_the_source_does_not_make_is_dropped() -> None:
    """Comment 2 only shows the setting the maintainer calls too low."""
    summary = kept(
        state=[
            "client_max_body_size is set correctly [2]",
            "The maintainer says to raise it to 25m [3]",
            "Uploads over 10MB work now [3]",
        ]
    )
    assert summary["state"] == []


def test_a_claim_repeated_in_a_section_is_shown_once() -> None:
    raise_it = "The maintainer says to raise the limit to 20m [3]"
    state = [raise_it, raise_it, "the maintainer says: raise the limit to 20m. [3]"]
    summary = S.ThreadSummary(**kept(state=state))
    body = S.render(summary, UPLOADS, None, "test", "h", "model")
    assert body.count("raise the limit to 20m") == 1, body
    assert kept(tried=["Alice's upload fails [0]", "Alice's upload fails [0] [1]"])["tried"] == [
        "Alice's upload fails [0]"  # comment 1 says nothing of it: not cited, not repeated
    ]


def test_one_claim_from_two_comments_cites_both_once() -> None:
    """The same words from two entries are one bullet citing both; under a later section from
    the same entry they are left out, from a later entry kept (it still holds there)."""
    items = [*UPLOADS, S.Entry(4, "alice", S.AUTHOR, "Uploads over 10MB fail for me too.", URL)]
    summary = kept(
        items,
        problem=["Uploads over 10MB fail [0]", "Uploads over 10MB fail [4]"],
        state=["Uploads over 10MB fail [0]"],
        open_questions=["Uploads over 10MB fail [0] [4]", "Uploads over 10MB fail. [4]"],
    )
    assert summary["problem"] == ["Uploads over 10MB fail [0] [4]"]
    assert summary["state"] == summary["open_questions"] == []
    assert kept(items, state=["Uploads over 10MB fail [4]"], problem=["Uploads fail [0]"]) == {
        "problem": ["Uploads fail [0]"],
        "tried": [],
        "state": ["Uploads over 10MB fail [4]"],
        "open_questions": [],
    }


def test_a_true_claim_in_other_words_is_kept() -> None:
    """A paraphrase, a claim summing up two comments it cites, and one the model left uncited
    (put on the two comments that say it) stay."""
    summary = kept(
        problem=[
            "Uploads of large files are rejected with a 413 error [0]",
            "client_max_body_size 1m; That limit is too low. Raise it to 20m.",
        ],
        tried=["Bob asked for the nginx config [1]"],
        state=["The maintainer says to raise client_max_body_size to 20m [2] [3]"],
    )
    assert summary == {
        "problem": [
            "Uploads of large files are rejected with a 413 error [0]",
            "client_max_body_size 1m; That limit is too low. Raise it to 20m. [2] [3]",
        ],
        "tried": ["Bob asked for the nginx config [1]"],
        "state": ["The maintainer says to raise client_max_body_size to 20m [2] [3]"],
        "open_questions": [],
    }


def test_a_number_is_checked_in_a_script_without_spaces() -> None:
    items = [S.Entry(0, "alice", S.AUTHOR, "上传超过10MB的文件时失败，返回413错误。", URL)]
    assert kept(items, problem=["上传超过10MB的文件失败 [0]"])["problem"] != []
    assert kept(items, problem=["上传超过12MB的文件失败 [0]"])["problem"] == []


# a second review: four claims the check before these rules kept, rightly, and they dropped or
# merged
UPLOAD_CRASH = [
    S.Entry(0, "alice", S.AUTHOR, "Upload crash on 2.0\n\nThe upload is failing on the 2.0 build"
            " with a crash.", URL),
    S.Entry(1, "bob", S.MAINTAINER, "I pushed a patch for the upload crash.", URL),
    S.Entry(2, "alice", S.AUTHOR, "With the patch the upload is not failing on the 2.0 build"
            " anymore.", URL),
    S.Entry(3, "carol", S.OTHER, "For me the upload is still failing on the 2.0 build.", URL),
]  # fmt: skip


def test_opposite_claims_are_never_one_bullet() -> None:
    """ "not" is a stop word: the words of a claim and of its denial were the same, and the
    thread's two states one bullet citing both comments."""
    failing = "The upload is failing on the 2.0 build [0]"
    fixed = "The upload is not failing on the 2.0 build [2]"
    still = "The upload is still failing on the 2.0 build [3]"
    assert kept(UPLOAD_CRASH, state=[failing, fixed])["state"] == [failing, fixed]
    assert kept(UPLOAD_CRASH, state=[fixed, still])["state"] == [fixed, still]


def test_who_asked_whom_and_a_common_word_are_borrowed_from_no_comment() -> None:
    """A login or role another entry has, or one word a drive-by comment has too, is no claim
    mixing two comments; a claim opening as another writer's header is."""
    assert kept(tried=["The maintainer asked the author for the nginx config [1]"])["tried"]
    assert kept(tried=["Bob asked alice to share her nginx config [1]"])["tried"]
    ping = [
        *UPLOADS,
        S.Entry(4, "carol", S.OTHER, "@alice same here, has a maintainer replied?", URL),
    ]
    assert kept(ping, tried=["The maintainer asked alice for her nginx config [1]"])["tried"]
    drive_by = [*UPLOADS, S.Entry(4, "carol", S.OTHER, "Same error here with large images.", URL)]
    assert kept(drive_by, problem=["Uploads over 10MB fail with a 413 error [0]"])["problem"]
    assert kept(tried=["alice (author): Can you share your nginx config? [1]"])["tried"] == []


def test_words_many_comments_use_are_the_threads_own_talk() -> None:
    """In a long thread most words of a paraphrase are in some comment: only one at most two
    entries have is lent."""
    me_too = [S.Entry(n, f"user{n}", S.OTHER, "Same error message here.", URL) for n in (4, 5, 6)]
    claim = "Uploads over 10MB fail with an error message [0]"
    assert kept([*UPLOADS, *me_too], problem=[claim])["problem"] == [claim]


def test_a_judgement_in_other_words_is_kept_and_a_question_judges_nothing() -> None:
    """The issue says smaller files "upload fine": smaller uploads work, uploads over 10MB do
    not. Asking whether raising the limit fixed it says no fix."""
    assert kept(problem=["Smaller uploads work [0]"])["problem"]
    assert kept(problem=["Uploads over 10MB work now [0]"])["problem"] == []
    assert kept(state=["Did raising the limit to 20m fix it? [3]"])["state"]
    asked = ["Whether raising the limit to 20m works [3]", "Uploads over 10MB work now [3]"]
    assert kept(open_questions=asked)["open_questions"] == asked[:1]  # the second is no question


def test_a_cited_comment_that_only_gives_the_number_stays_a_source() -> None:
    """Comment 2 shares no word of three letters with the claim, only its 1m."""
    claim = "Bob says the 1m limit is too low [2] [3]"
    assert kept(state=[claim])["state"] == [claim]
