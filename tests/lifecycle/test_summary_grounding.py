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
