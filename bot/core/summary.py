"""Thread summaries: prompt input, chunking, citation checks, extractive fallback, rendering — pure."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.core.checks import (
    CROSS_REF,
    ISSUE_REF,
    MENTION,
    CheckResult,
    check_text,
    commits_named,
    links,
)
from bot.core.lifecycle import Thread, Waiting, is_reply, without_commands
from bot.core.markers import marker, markers_in, quiet
from bot.core.text import invisible

T = TypeVar("T")

SUMMARY_MARK = "summary"
HASH_MARK = "summary-hash:"
KIND_MARK = "summary-kind:"  # the model's summary, or the extractive one it fell back to
SUMMARY_VERSION = "1"
SECTIONS = (
    ("problem", "Problem"),
    ("tried", "What was tried"),
    ("state", "Current state"),
    ("open_questions", "Open questions"),
)
CITE = re.compile(r"\s*\[(\d{1,4})\]")
QUOTED_CITE = re.compile(r"\[(\d{1,4})\]")  # a `[n]` in text copied from a comment
SENTENCE = re.compile(r"(?<=[.!?])\s+")
HEADER_LIKE = re.compile(r"(?m)^(\s*)[\[［]\s*(\d+)\s*[\]］]")  # `[n]` opening a line
BLOCK_START = re.compile(r"^(?:#{1,6}\s+|>\s*|[-*+]\s+|\d{1,3}[.)]\s+)+")
BOLD_LINE = re.compile(r"^(\*\*|__)(.*?)\1\s*:?$")  # a line like the summary's `**Current state**`
RULE_LINE = re.compile(r"^[-=*_\s]{3,}$")  # a thematic break or a setext heading's underline


class Claim(BaseModel):
    """One sentence and the thread entry it comes from (small models keep this shape best)."""

    model_config = ConfigDict(extra="ignore")
    text: str = Field(max_length=400)
    source: int | list[int] | None = None

    def as_text(self) -> str:
        sources = self.source if isinstance(self.source, list) else [self.source]
        return " ".join([self.text.strip(), *(f"[{n}]" for n in sources if n is not None)])


Claims = Annotated[list[str], BeforeValidator(lambda v: _flatten(v))]


def _flatten(value: object) -> object:
    """Accept "text [n]" strings, {"text", "source"} objects, or one bare string per section."""
    items = [value] if isinstance(value, str | dict) else value
    if not isinstance(items, list):
        return value
    return [_plain(Claim.model_validate(i).as_text() if isinstance(i, dict) else i) for i in items]


def _plain(claim: object) -> object:
    """One line of plain text: a claim is one linked bullet of the comment, so the line breaks
    and block Markdown it copied from a comment (a heading, a list item, a bold line like the
    summary's own section titles) cannot add unlinked lines or forge a section."""
    if not isinstance(claim, str):
        return claim
    lines = [BLOCK_START.sub("", ln.strip()) for ln in claim.splitlines()]
    text = " ".join(BOLD_LINE.sub(r"\2", ln) for ln in lines if not RULE_LINE.match(ln))
    return " ".join(text.split())


class ThreadSummary(BaseModel):
    """What the model returns: short sentences, each citing the entry n of the thread it states."""

    model_config = ConfigDict(extra="ignore")
    problem: Claims = Field(default_factory=list, max_length=4)
    tried: Claims = Field(default_factory=list, max_length=6)
    state: Claims = Field(default_factory=list, max_length=4)
    open_questions: Claims = Field(default_factory=list, max_length=4)


@dataclass(frozen=True)
class Entry:
    """One numbered piece of the thread: 0 is the issue itself, then human comments in order."""

    n: int
    author: str
    role: str  # author | maintainer | contributor
    text: str
    url: str


def entries(thread: Thread, bot_login: str, per_entry_chars: int = 1500) -> list[Entry]:
    """The issue (title and body) and the human comments, each cut at per_entry_chars: a chunk
    never splits an entry, so one longer than the model's context could not be summarized.
    Comments that only talk to the bot (`/smolbot summarize`) are no entries, as the lifecycle
    counts no reply in them; a comment's own command lines are left out of its text."""
    issue = thread.issue
    opening = f"{issue.title}\n\n{issue.body}".strip()[:per_entry_chars]
    first = Entry(0, issue.author, "author", opening, issue.html_url)
    out = [first]
    for c in thread.comments:
        if not is_reply(c.author, c.author_type, c.body, bot_login):
            continue
        role = "author" if c.author == issue.author else _role(c.author_association)
        text = without_commands(c.body)[:per_entry_chars]
        out.append(Entry(len(out), c.author, role, text, c.html_url))
    return out


def _role(association: str) -> str:
    return (
        "maintainer"
        if association.upper() in ("OWNER", "MEMBER", "COLLABORATOR")
        else "contributor"
    )


def content_hash(items: list[Entry]) -> str:
    raw = json.dumps([SUMMARY_VERSION, *[(e.author, e.text) for e in items]], ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def summary_hash_in(body: str) -> str | None:
    return _marked(body, HASH_MARK)


def summary_kind_in(body: str) -> str | None:
    """ "model" or "extractive"; None in a summary from before the kind was marked."""
    return _marked(body, KIND_MARK)


def _marked(body: str, prefix: str) -> str | None:
    found = [m[len(prefix) :] for m in markers_in(body) if m.startswith(prefix)]
    return found[0] if found else None


def as_prompt_text(items: list[Entry]) -> str:
    """The entries under `[n] login (role):` headers. A line of an entry's text that starts like a
    header (as a model reads it: behind a zero-width space, after a lone carriage return) has its
    `[n]` written `(n)`: a comment cannot forge another entry, a maintainer's."""
    return "\n\n".join(f"[{e.n}] {e.author} ({e.role}):\n{_inert(e.text)}" for e in items)


def _inert(text: str) -> str:
    """The text as a model reads it, so nothing hides a header's `[n]` from HEADER_LIKE: every
    line break (a lone carriage return, U+2028...) a newline, invisible characters (a zero-width
    space, a variation selector) dropped; then a line's opening `[n]` written `(n)`."""
    read = LINE_BREAK.sub("\n", text)
    if not read.isascii():
        read = "".join(c for c in read if not invisible(c))
    return HEADER_LIKE.sub(r"\1(\2)", read)


# every line break str.splitlines knows (a model's tokenizer reads each as one)
LINE_BREAK = re.compile(r"\r\n|[\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def chunks(items: list[Entry], budget_chars: int) -> list[list[Entry]]:
    """Split the thread into pieces that fit the model's context; never splits one entry."""
    return packed(items, lambda e: len(e.text) + len(e.author) + 20, budget_chars)


def packed(items: Iterable[T], cost: Callable[[T], int], budget: int) -> list[list[T]]:
    """Consecutive runs of items whose costs add up to at most budget (one item over it: alone)."""
    out: list[list[T]] = [[]]
    size = 0
    for item in items:
        if out[-1] and size + cost(item) > budget:
            out.append([])
            size = 0
        out[-1].append(item)
        size += cost(item)
    return out


def cited(
    summary: ThreadSummary, items: list[Entry], min_overlap: float = 0.3
) -> tuple[ThreadSummary, int]:
    """Keep claims grounded in the entry they cite, or, uncited, in the entry they overlap most.

    A claim's words must overlap its source's words (min_overlap of the claim's words); claims
    with no such source are dropped. Returns the kept summary and how many were dropped.
    """
    words = {e.n: _words(e.text) for e in items}
    kept: dict[str, list[str]] = {}
    dropped = 0
    for key, _ in SECTIONS:
        good = [g for g in (_ground(c, words, min_overlap) for c in getattr(summary, key)) if g]
        dropped += len(getattr(summary, key)) - len(good)
        kept[key] = good
    return ThreadSummary(**kept), dropped


def _ground(claim: str, words: dict[int, set[str]], min_overlap: float) -> str | None:
    said = _words(CITE.sub("", claim))
    if not said:
        return None
    score = {n: len(said & w) / len(said) for n, w in words.items()}
    named = [n for n in _sources(claim) if score.get(n, 0.0) >= min_overlap]
    best = max(score, key=lambda n: (score[n], -n), default=-1)
    if not named and score.get(best, 0.0) < min_overlap:
        return None
    sources = named or [best]
    return f"{CITE.sub('', claim).strip()} " + " ".join(f"[{n}]" for n in sources)


STOP_TEXT = """the and for with that this from have has was were are but not you your they them
their its about into when what which there been also can could would should does did"""
STOP = frozenset(STOP_TEXT.split())


def _words(text: str) -> set[str]:
    found = re.findall(r"[a-z0-9][a-z0-9._-]{2,}", text.lower())
    return {w.rstrip("._-") for w in found if w not in STOP}


def merge_locally(parts: list[ThreadSummary]) -> ThreadSummary:
    """A merge without the model: concatenate sections and drop repeats; the problem as first
    stated, the newest of the rest."""
    merged: dict[str, list[str]] = {}
    for key, _ in SECTIONS:
        claims = list(dict.fromkeys(c for p in parts for c in getattr(p, key)))
        merged[key] = (
            claims[:4] if key == "problem" else claims[-2:] if key == "state" else claims[-4:]
        )
    return ThreadSummary(**merged)


def still_open(summary: ThreadSummary, items: list[Entry]) -> ThreadSummary:
    """Only the open questions nobody else has written after, anywhere in the thread: a chunk's
    summary judges its own chunk, and the answer may open the next one."""
    answered: set[int] = set()
    later: set[str] = set()  # who wrote after the entry
    for e in reversed(items):
        if later - {e.author}:
            answered.add(e.n)
        later.add(e.author)
    questions = [
        q for q in summary.open_questions if not _sources(q) or max(_sources(q)) not in answered
    ]
    return summary.model_copy(update={"open_questions": questions})


def is_empty(summary: ThreadSummary) -> bool:
    return not any(getattr(summary, key) for key, _ in SECTIONS)


def claim_count(summary: ThreadSummary) -> int:
    return sum(len(getattr(summary, key)) for key, _ in SECTIONS)


def cited_entries(summary: ThreadSummary) -> set[int]:
    """The thread entries the summary's claims cite."""
    return {n for key, _ in SECTIONS for c in getattr(summary, key) for n in _sources(c)}


def extractive_instead(kept: ThreadSummary, dropped: int, fallback: ThreadSummary) -> str | None:
    """Why the extractive summary is better than what is left of the model's after the grounding
    check (`cited`), or None to post the model's: the check dropped most of the model's claims
    (what is left is the little the model got right by chance), or the rest says much less than
    the extractive one (at most half its claims, from fewer entries of the thread). A shorter
    summary of the same entries is the model's job, not a reason to drop it."""
    left, entries_left = claim_count(kept), len(cited_entries(kept))
    if dropped > left:
        return f"the grounding check dropped {dropped} of the model's {dropped + left} claims"
    total, entries_total = claim_count(fallback), len(cited_entries(fallback))
    if 2 * left <= total and entries_left < entries_total:
        return (
            f"the model's summary says less: {left} claims from {entries_left} entries,"
            f" the extractive one {total} from {entries_total}"
        )
    return None


def _sources(claim: str) -> list[int]:
    return [int(n) for n in CITE.findall(claim)]


# -- extractive fallback --------------------------------------------------------------------
def extractive(items: list[Entry]) -> ThreadSummary:
    """Sentences copied from the thread, each cited: a summary the bot can always stand behind."""
    head = items[0] if items and items[0].n == 0 else None  # a later chunk has no issue entry
    replies = items[1:] if head is not None else items
    opening = _sentences(head.text) if head is not None else []
    problem = [f"{_clip(opening[0])} [0]"] if opening else []
    tried = [
        f"{_clip(s)} [{e.n}]"
        for e in replies
        for s in _sentences(e.text)[:3]
        if re.search(r"\b(tried|try|workaround|reinstall|downgrad|upgrad|still|same)\b", s, re.I)
    ][:3]
    # the newest reply with words to quote (one that is only a pasted log or a picture has none)
    last = next(((e, said) for e in reversed(replies) if (said := _sentences(e.text))), None)
    state = [f"{_clip(' '.join(last[1][:2]))} [{last[0].n}]"] if last else []
    questions = [
        f"{_clip(s)} [{e.n}]"
        for i, e in enumerate(replies)
        if not any(later.author != e.author for later in replies[i + 1 :])  # nobody answered yet
        for s in _sentences(e.text)
        if s.endswith("?")
    ]
    return ThreadSummary(problem=problem, tried=tried, state=state, open_questions=questions[-3:])


def _sentences(text: str) -> list[str]:
    """The text's sentences, to quote: a `[k]` of the text (a footnote, a numbered step) is
    written `(k)`, as a quote's own `[n]` is its citation, the one comment it links to. Code
    blocks are no sentences, an unclosed one to the end: a comment that is only a pasted
    traceback has none (its raw start, quoted, opened a code block in the summary that hid the
    rest of the line, its link too)."""
    plain = re.sub(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)", " ", text or "", flags=re.S)
    lines = [ln for ln in plain.splitlines() if not ln.lstrip().startswith(">")]
    found = [s.strip() for s in SENTENCE.split(" ".join(lines)) if len(s.strip()) > 3]
    return [QUOTED_CITE.sub(r"(\1)", s) for s in found]


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- rendering and checking -----------------------------------------------------------------
def render(
    summary: ThreadSummary,
    items: list[Entry],
    waiting: Waiting | None,
    how: str,
    digest: str,
    kind: str,
) -> str:
    """Markdown with every claim linked to its source comment, and the markers of the thread's
    hash (for caching) and of the kind of summary (an extractive one is redone when asked)."""
    urls = {e.n: e.url for e in items}
    lines = ["### Thread summary", ""]
    for key, title in SECTIONS:
        claims = getattr(summary, key)
        if claims:
            lines += [f"**{title}**", *[f"- {_linked(c, urls)}" for c in claims], ""]
    if waiting is not None:
        lines += [f"**Waiting on:** {waiting_line(waiting)}", ""]
    lines.append(f"<sub>Summary by smolbot (a bot) from {len(items) - 1} comments; {how}.</sub>")
    return "\n".join(lines) + f"\n{marker(HASH_MARK + digest)}\n{marker(KIND_MARK + kind)}"


def _linked(claim: str, urls: dict[int, str]) -> str:
    text = quiet(CITE.sub("", claim).strip())
    links = [
        f"[{'issue' if n == 0 else f'comment {n}'}]({urls[n]})" if urls.get(n) else f"entry {n}"
        for n in dict.fromkeys(_sources(claim))
    ]
    return f"{text} ({', '.join(links)})"


def waiting_line(w: Waiting) -> str:
    who = ", ".join(f"`{p}`" for p in w.who) or "nobody named"
    if w.on == "nobody":
        return f"nobody — {w.reason}"
    return f"the {w.on} ({who}) since {w.since.date()} — {w.reason}"


def check_summary(summary: ThreadSummary, thread: Thread, items: list[Entry]) -> CheckResult:
    """Reject model text whose links, issue numbers, other repositories' issues (`owner/repo#N`),
    commit SHAs (GitHub links one) or @-names the thread itself does not contain."""
    source = "\n".join([thread.issue.html_url, *(e.text for e in items), *(e.url for e in items)])
    people = {e.author for e in items} | set(MENTION.findall(source))
    numbers = {thread.issue.number, *(int(n) for n in ISSUE_REF.findall(source))}
    claims = [CITE.sub("", c) for key, _ in SECTIONS for c in getattr(summary, key)]
    return check_text(
        "\n".join(claims) or "(empty)",
        allowed_urls=links(source),
        allowed_numbers=numbers,
        allowed_people=people,
        allowed_refs=CROSS_REF.findall(source),  # `owner/repo#N` the thread itself names
        allowed_commits=commits_named(source),
        max_chars=6000,
    )
