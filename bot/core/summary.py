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
    CODE_SPAN,
    CROSS_REF,
    ISSUE_REF,
    MENTION,
    CheckResult,
    check_text,
    commits_named,
    links,
    outside_code,
    unsupported_claims,
)
from bot.core.lifecycle import (
    PLUS_ONE,
    Thread,
    Waiting,
    is_reply,
    on_team,
    own_words,
    without_commands,
)
from bot.core.markers import marker, markers_in, quiet
from bot.core.text import invisible

T = TypeVar("T")

SUMMARY_MARK = "summary"
HASH_MARK = "summary-hash:"
KIND_MARK = "summary-kind:"  # the model's summary, or the extractive one it fell back to
# changed when the same thread is summarized otherwise: a summary posted before is not current
SUMMARY_VERSION = "2"
SECTIONS = (
    ("problem", "Problem"),
    ("tried", "What was tried"),
    ("state", "Current state"),
    ("open_questions", "Open questions"),
)
CITE = re.compile(r"\s*\[(\d{1,4})\]")
QUOTED_CITE = re.compile(r"\[(\d{1,4})\]")  # a `[n]` in text copied from a comment
# a sentence ends at `.`, `!` or a question mark and a space; in Chinese and Japanese, which put
# no space after it, at the full-width `。`, `！` or `？` alone
SENTENCE = re.compile(r"(?<=[.!?؟\u037e।])\s+|(?<=[。！？｡])\s*")
QUESTION_MARKS = ("?", "？", "﹖", "؟", "\u037e", "፧", "⸮", "‽", "⁇", "⁈", "⁉")
# an `[n]` anywhere in an entry's text, in the look-alike brackets a model may read as `[ ]` too
ENTRY_NUMBER = re.compile(r"[\[［【〔〖⟦]\s*(\d+)\s*[\]］】〕〗⟧]")
# scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, kana, Han): their
# words are found as character pairs, and a quote may be cut between any two of their letters
UNSPACED = re.compile(
    r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+"
)
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
    role: str  # AUTHOR | MAINTAINER | OTHER
    text: str
    url: str


AUTHOR, MAINTAINER, OTHER = "author", "maintainer", "other"
# half of a UTF-16 pair (a JSON "\ud83d" escape, a title cut inside an emoji) as U+FFFD
_HALVES = dict.fromkeys(range(0xD800, 0xE000), "\ufffd")


def whole(text: str) -> str:
    """The text with every lone surrogate (half a character, which no UTF-8 encoder writes: the
    thread's hash, the posted comment and stdout all failed on one) shown as U+FFFD, as a decoder
    shows a broken byte; a text without one is returned as it is."""
    return text if text.isascii() else text.translate(_HALVES)


def entries(
    thread: Thread, bot_login: str, per_entry_chars: int = 1500, team: frozenset[str] = frozenset()
) -> list[Entry]:
    """The issue (title and body) and the human comments, each cut at per_entry_chars: a chunk
    never splits an entry, so one longer than the model's context could not be summarized.
    Comments that only talk to the bot (`/smolbot summarize`) are no entries, as the lifecycle
    counts no reply in them; a comment's own command lines are left out of its text. Each is
    labeled as the lifecycle reads its writer: the author, a maintainer (the comment's
    author_association, or a login in `team`, lower case: a private org member's association
    says nothing), or other (anyone else: a drive-by "me too" is no word of the project's)."""
    issue = thread.issue
    opening = whole(f"{issue.title}\n\n{issue.body}".strip()[:per_entry_chars])
    first = Entry(0, issue.author, AUTHOR, opening, issue.html_url)
    out = [first]
    for c in thread.comments:
        if not is_reply(c.author, c.author_type, c.body, bot_login):
            continue
        role = AUTHOR if c.author == issue.author else _role(c.author, c.author_association, team)
        text = whole(without_commands(c.body)[:per_entry_chars])
        out.append(Entry(len(out), c.author, role, text, c.html_url))
    return out


def _role(login: str, association: str, team: frozenset[str]) -> str:
    return MAINTAINER if on_team(login, association, team) else OTHER


def content_hash(items: list[Entry]) -> str:
    """What the posted summary was made from: who wrote what, and in which role (the summary
    shows the role, so a reply's author joining the team makes it stale)."""
    raw = json.dumps(
        [SUMMARY_VERSION, *[(e.author, e.role, e.text) for e in items]], ensure_ascii=False
    )
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
    """The entries under `[n] login (role):` headers. Every `[n]` of an entry's text is written
    `(n)`: a comment cannot forge another entry, a maintainer's, neither on a line of its own nor
    behind Markdown (`**[3] carol (maintainer):**`, `> [3] …`, `- [3] …`), and the model takes no
    footnote number of a comment for an entry to cite."""
    return "\n\n".join(f"[{e.n}] {e.author} ({e.role}):\n{_inert(e.text)}" for e in items)


def _inert(text: str) -> str:
    """The text as a model reads it, so nothing hides an `[n]` from ENTRY_NUMBER: every line
    break (a lone carriage return, U+2028...) a newline, invisible characters (a zero-width
    space, a variation selector) dropped; then each `[n]` written `(n)`."""
    read = LINE_BREAK.sub("\n", text)
    if not read.isascii():
        read = "".join(c for c in read if not invisible(c))
    return ENTRY_NUMBER.sub(r"(\1)", read)


# every line break str.splitlines knows (a model's tokenizer reads each as one)
LINE_BREAK = re.compile(r"\r\n|[\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def chunks(items: list[Entry], budget_chars: int) -> list[list[Entry]]:
    """Split the thread into pieces that fit the model's context; never splits one entry."""
    return packed(items, lambda e: len(e.text) + len(e.author) + 20, budget_chars)


def read_plan(parts: list[list[T]], most: int) -> tuple[list[list[T]], int]:
    """The chunks of a long thread the model reads, at most `most` (at least one): the first
    (the issue and the comments right after it) and the newest, and how many items of the
    chunks between are left unread (the summary says how many). Each chunk is one call, and a
    merge of their summaries at most one more: a 400-comment thread made 41 calls, most of an
    hour of the local model, for a summary whose Current state only the newest chunks decide."""
    if len(parts) <= max(1, most):
        return parts, 0
    newest = len(parts) - (max(1, most) - 1)
    return [parts[0], *parts[newest:]], sum(len(p) for p in parts[1:newest])


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
    """Keep claims grounded in the entry they cite, or, uncited, in the entry they overlap most,
    each once.

    A claim's words must overlap its source's words (min_overlap of the claim's words), and its
    sources must say what it adds (`_unfounded`); claims with no such source are dropped. A claim
    that repeats one before it is said once (`_once`). Returns the kept summary and how many
    were dropped as ungrounded (a repeat is not: it is grounded, only said already).
    """
    said = {e.n: _said(e) for e in items}
    holders: dict[str, dict[str, set[int]]] = {}  # by a word's first three letters, who has it
    for n, s in said.items():
        for w in s.words:
            holders.setdefault(w[:3], {}).setdefault(w, set()).add(n)
    kept: dict[str, list[str]] = {}
    before: list[tuple[_Key, list[int]]] = []
    dropped = 0
    for key, _ in SECTIONS:
        claims = getattr(summary, key)
        asks = key == "open_questions"
        good = [g for c in claims if (g := _ground(c, said, holders, min_overlap, asks))]
        dropped += len(claims) - len(good)
        kept[key] = _once(good, before)
    return ThreadSummary(**kept), dropped


@dataclass(frozen=True)
class _Said:
    """One entry as a claim is checked against it."""

    text: str
    author: str  # its writer's login, case-folded
    words: frozenset[str]  # `_words` of its text
    names: frozenset[str]  # its writer's login and role: a claim may say who said it
    squashed: str  # its writer and text, case-folded, without whitespace: where anchors are found


def _said(e: Entry) -> _Said:
    return _Said(
        e.text,
        e.author.casefold(),
        frozenset(_words(e.text)),
        frozenset(_words(f"{e.author} {e.role}")),
        "".join(f"{e.author} {e.text}".casefold().split()),
    )


def _ground(
    claim: str,
    said: dict[int, _Said],
    holders: dict[str, dict[str, set[int]]],
    min_overlap: float,
    asks: bool = False,
) -> str | None:
    """The claim cited by the entries it is grounded in, or None to drop it: it has no words of
    an entry but names; it cites only entries the thread does not have (the number of a header a
    comment forged: it was put on that comment's words); or it claims what its sources do not
    say (the work fixed or released, the issue closed, a date: `unsupported_claims`, as the
    digest checks; a number, a name, a judgement, another comment's word: `_unfounded`), read
    in the entries it is put on alone, so "fixed" is not borrowed from another comment. The
    entries it cites are its sources when they share words with it (or one of its numbers or
    names as written: "1m" is no word), together at least min_overlap of them (a claim may sum
    up two comments); else the entry it overlaps most. A question judges nothing ("did it fix
    it?" is no claim that it did); `asks`: the claim is one of the open questions."""
    text = CITE.sub("", claim).strip()
    names = {w for s in said.values() for w in s.names}
    words = _words(text) - names  # "bob (maintainer)" is no claim
    named = _sources(claim)
    if not words or (named and not any(n in said for n in named)):
        return None
    score = {n: len(words & s.words) / len(words) for n, s in said.items()}
    anchors = _anchors(text.casefold())
    sharing = [
        n
        for n in dict.fromkeys(named)
        if n in said and (score[n] > 0 or any(_written(a, said[n].squashed) for a in anchors))
    ]
    together = words & {w for n in sharing for w in said[n].words}  # a claim of two comments
    grounded = sharing if len(together) >= min_overlap * len(words) else []
    best = max(score, key=lambda n: (score[n], -n), default=-1)
    if not grounded and score.get(best, 0.0) < min_overlap:
        return None
    # uncited, it may say two comments' words ("1m; too low, raise it to 20m"): the entry it
    # overlaps most, else that one and the next with words of the claim it lacks (a name is none)
    rest = words - said[best].words if best in said else set()
    others = sorted((n for n in said if rest & said[n].words), key=lambda n: -score[n])
    tries = [grounded] if grounded else [[best], *([best, n] for n in others if not named)]
    for cites in tries:
        sources = [said[n] for n in cites]
        if unsupported_claims(text, "\n".join(s.text for s in sources)):
            continue
        if not _unfounded(text, cites, said, holders, asks):
            return f"{text} " + " ".join(f"[{n}]" for n in sorted(cites))
    return None


# what a claim must find in its sources as written: a number, version or size (413, 2.3.1, 20m),
# a name joined by `_`, `.` or `/` (client_max_body_size, nginx.conf), an option (--db)
ANCHOR = re.compile(r"[^\W_]*\d[\w.-]*|\w+(?:[_./]\w+)+|(?<![\w-])--?[^\W\d_][\w-]*")
# a judgement, in English, said for or against: what turns a claim into its opposite ("set
# correctly" of a comment that shows a wrong setting, "does not work" of one that never said so).
# The words of one are one judgement ("upload fine" says "uploads work"; "fails", "does not work")
VERDICT_TEXT = {
    ("works", True): "correct correctly properly fine work works worked working success successful"
    " successfully",
    ("works", False): "incorrect incorrectly wrong wrongly broke broken breaks fail fails failed"
    " failing failure",
    ("fixed", True): "fix fixes fixed solved resolved",
    ("still", True): "still",
}
VERDICT = {w: said for said, text in VERDICT_TEXT.items() for w in text.split()}
ASSESSED = re.compile(r"\b(?:" + "|".join(sorted(VERDICT, key=len, reverse=True)) + r")\b")
NEGATION = re.compile(r"\b(?:not|no|never|none|nothing|nobody|neither|nor|cannot|\w+n['’]t)\b")
# how a question opens, in English (`_asked`)
ASKING = re.compile(
    r"(?:whether|if|how|why|what|which|when|where|who|is|are|was|were|do|does|did|can|could"
    r"|will|would|should|has|have)\b"
)
# a claim opening as the prompt's header of an entry (`as_prompt_text`): whose words follow
HEADER = re.compile(rf"\s*([^\s()]+) \((?:{AUTHOR}|{MAINTAINER}|{OTHER})\):")


def _unfounded(
    text: str,
    cites: list[int],
    said: dict[int, _Said],
    holders: dict[str, dict[str, set[int]]],
    asks: bool = False,
) -> list[str]:
    """What the claim says that its sources (the entries cites) do not: a number, version, size
    or technical name (ANCHOR), not found as written; a judgement they do not make (`_misjudged`)
    outside a question (`_asked`: "did raising the limit fix it?" says no fix); words another
    comment lent it (`_lent`); or, opening as the prompt's header ("bob (maintainer): …"), a
    writer of none of them. A bare "not" is the model's paraphrase ("a reinstall did not help"
    of "still the same crash")."""
    folded = text.casefold()
    sources = [said[n] for n in cites]
    squashed = "\n".join(s.squashed for s in sources)
    out = [a for a in _anchors(folded) if not _written(a, squashed)]
    stated = [s for s in SENTENCE.split(folded) if not _asked(s, asks)]
    out += _misjudged(stated, sources)
    header = HEADER.match(folded)
    if header and header[1] not in {s.author for s in sources}:
        out.append(header[1])
    return out + _lent(text, cites, said, holders)


def _asked(sentence: str, asks: bool) -> bool:
    """A question: a sentence ending in a question mark, in any script, or, among the open
    questions (`asks`), one that opens as a question in English ("whether the limit fixed it").
    A statement there is judged: the model put "uploads over 10MB work now" under them."""
    opens = asks and ASKING.match(sentence.lstrip()) is not None
    return opens or sentence.rstrip().endswith(QUESTION_MARKS)


def _misjudged(stated: list[str], sources: list[_Said]) -> list[str]:
    """The judgements (`_judgements`: "works", "not fixed") of the claim's sentences its sources
    do not make: in a form of the same word anywhere ("set correctly", "works"), or in another
    word of the same judgement ("upload fine" of "uploads work") in their judging sentence most
    like the claim's. An issue where uploads over 10MB fail and smaller files upload fine makes
    "smaller uploads work", not "uploads over 10MB work"."""
    theirs = [
        (found, _index(_words(sentence)))
        for s in sources
        for line in s.text.casefold().splitlines()  # a title is a sentence of its own
        for sentence in SENTENCE.split(line)
        if (found := _judgements(sentence))
    ]
    anywhere = [j for found, _ in theirs for j in found]
    out = []
    for sentence in stated:
        about = {w for w in _words(sentence) if w not in VERDICT}
        like = [sum(_known(w, words) for w in about) for _, words in theirs]
        most = max(like, default=0)
        nearest = {
            (j, holds)
            for (found, _), n in zip(theirs, like, strict=True)
            if n == most
            for _, j, holds in found
        }
        out += [
            f"{'not ' * (not holds)}{word}"
            for word, judged, holds in _judgements(sentence)
            if (judged, holds) not in nearest
            and not any(h == holds and _akin(word, w) for w, _, h in anywhere)
        ]
    return out


def _lent(
    text: str, cites: list[int], said: dict[int, _Said], holders: dict[str, dict[str, set[int]]]
) -> list[str]:
    """Words of the claim another entry lent it: a claim mixing two comments, cited to one ("the
    nginx config" of an issue that never names nginx). A word counts when its sources lack it
    and at most two other entries have it (`holders`: a word many comments use is the thread's
    common talk, as one no entry has is the model's own paraphrase, which the overlap bounds),
    and only with another word of the same entry: one word may be the model's paraphrase by
    chance ("fail with a 413 error" of an issue, and a drive-by "same error here"); two are that
    comment. Who said what (a login, a role, "says") is no such word: "the maintainer asked the
    author for the config" of the maintainer's comment says whom they asked."""
    names = _index([AUTHOR, MAINTAINER, OTHER, *(w for s in said.values() for w in s.names)])
    by: dict[int, set[str]] = {}
    for w in _words(UNSPACED.sub(" ", text)):  # a pair of letters is no word to lend
        if _known(w, names) or _spoken(w):
            continue
        has = {n for o, ns in holders.get(w[:3], {}).items() if _akin(w, o) for n in ns}
        if len(has) <= 2 and not has & set(cites):
            for n in has:
                by.setdefault(n, set()).add(w)
    return sorted({w for words in by.values() if len(words) > 1 for w in words})


def _written(anchor: str, squashed: str) -> bool:
    """The anchor is in the squashed text, its number whole: 20m is not in 120m, nor 2.3 in
    2.3.1."""
    before = r"(?<![\d.])" if anchor[0].isdigit() else ""
    after = r"(?!\.?\d)" if anchor[-1].isdigit() else ""
    return re.search(before + re.escape(anchor) + after, squashed) is not None


def _judgements(folded: str) -> list[tuple[str, str, bool]]:
    """Each word of a judgement (VERDICT) in a case-folded text, the judgement, and whether the
    text says it holds: "fails" and "does not work" both say "works" does not. A negation counts
    before the word in its clause ("does not work"; not "no, it works")."""
    out = []
    for m in ASSESSED.finditer(folded):
        clause = re.split(r"[,.;:!?]", folded[: m.start()])[-1]
        judged, holds = VERDICT[m.group(0)]
        out.append((m.group(0), judged, holds != bool(NEGATION.search(clause))))
    return out


def _anchors(folded: str) -> list[str]:
    """The ANCHOR tokens of a case-folded text, outside the scripts written without spaces."""
    return [a.rstrip("._-") for a in ANCHOR.findall(UNSPACED.sub(" ", folded)) if a.strip("._-")]


def _index(words: Iterable[str]) -> dict[str, set[str]]:
    """Words by their first three letters, for `_known`."""
    out: dict[str, set[str]] = {}
    for w in words:
        out.setdefault(w[:3], set()).add(w)
    return out


def _known(word: str, index: dict[str, set[str]]) -> bool:
    """The word, or a form of it (`_akin`), is in the index."""
    return any(_akin(word, other) for other in index.get(word[:3], ()))


def _akin(a: str, b: str) -> bool:
    """Two forms of one word, roughly, in any script: a common start of at least four letters
    (all of a shorter word) that leaves at most three of the longer (work, works, worked;
    correct, correctly; but not set, settings)."""
    shorter = min(len(a), len(b))
    common = next((i for i in range(shorter) if a[i] != b[i]), shorter)
    return common >= min(4, shorter) and common >= max(len(a), len(b)) - 3


# how a claim says who said what, in English (and the words they start, with at most three
# letters more: asked, suggests; not `_akin`, whose config is a form of confirm), no word of what
# was said: "she says", "he asks", whichever comment has the word too
SPEECH_TEXT = """say said ask tell told suggest propose report mention reply replied confirm try
tries tried want think agree note share thank explain"""
SPEECH = tuple(SPEECH_TEXT.split())


def _spoken(word: str) -> bool:
    return any(word.startswith(w) and len(word) - len(w) <= 3 for w in SPEECH)


# what makes two claims one (`_same`): their words and anchors, what they judge and whether it
# holds (`_judgements`), and whether they deny anything (NEGATION)
_Key = tuple[set[str], set[tuple[str, bool]], bool]


def _once(claims: list[str], before: list[tuple[_Key, list[int]]]) -> list[str]:
    """A section's claims, each said once: a claim the same as one before it in the section
    (`_same`) adds its citations to that one's; one the same as a claim of an earlier section
    (`before`, which the section's claims join) from no other entries is left out. Under another
    section and another entry (a later comment saying it still holds) it is kept."""
    texts: list[str] = []
    keys: list[_Key] = []
    cites: list[list[int]] = []
    for claim in claims:
        folded = CITE.sub("", claim).casefold()
        key: _Key = (
            _words(folded) | set(_anchors(folded)),
            {(judged, holds) for _, judged, holds in _judgements(folded)},
            bool(NEGATION.search(folded)),
        )
        sources = _sources(claim)
        if any(_same(key, k) and set(sources) <= set(c) for k, c in before):
            continue
        at = next((i for i, k in enumerate(keys) if _same(key, k)), None)
        if at is None:
            texts.append(CITE.sub("", claim).strip())
            keys.append(key)
            cites.append(sources)
        else:
            cites[at] += [n for n in sources if n not in cites[at]]
    before += zip(keys, cites, strict=True)
    return [f"{t} " + " ".join(f"[{n}]" for n in c) for t, c in zip(texts, cites, strict=True)]


def _same(key: _Key, other: _Key) -> bool:
    """Two claims' words and anchors (case, punctuation and citations aside) are at least 80 %
    the same, a repeat or one with a word more or less, and they say the same of it: "the upload
    is failing", "is not failing" and "is still failing" differ in a stop word or one more word,
    and are three states of a thread."""
    (words, judged, denies), (others, judged_there, denies_there) = key, other
    alike = judged == judged_there and denies == denies_there
    return alike and len(words & others) >= 0.8 * len(words | others)


STOP_TEXT = """the and for with that this from have has was were are but not you your they them
their its about into when what which there been also can could would should does did"""
STOP = frozenset(STOP_TEXT.split())


def _words(text: str) -> set[str]:
    """The text's words of three letters or more, in any script (a faithful Russian or Greek claim
    had none, and was dropped), and the pairs of letters of a script written without spaces (a
    Chinese sentence is one "word" otherwise, which no paraphrase repeats)."""
    folded = text.casefold()
    found = re.findall(r"[^\W_][\w.-]{2,}", UNSPACED.sub(" ", folded))
    runs = UNSPACED.findall(folded)
    pairs = {run[i : i + 2] for run in runs for i in range(max(1, len(run) - 1))}
    return {w.rstrip("._-") for w in found if w not in STOP} | pairs


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
    later: set[str] = set()  # who wrote after the entry (a bare +1 answers nothing)
    for e in reversed(items):
        if later - {e.author}:
            answered.add(e.n)
        if not _plus_one(e):
            later.add(e.author)
    questions = [
        q for q in summary.open_questions if not _sources(q) or max(_sources(q)) not in answered
    ]
    return summary.model_copy(update={"open_questions": questions})


def _plus_one(e: Entry) -> bool:
    """A bare `+1` (or 👍): it answers no question, as the lifecycle's waiting-on reads it."""
    return bool(PLUS_ONE.fullmatch(own_words(e.text)))


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
    """Sentences copied from the thread, each cited: a summary the bot can always stand behind.
    A bare +1 is no reply here: it neither answers a question nor is the current state; nor is
    a stranger's comment the state (what one tried is still quoted under What was tried)."""
    head = items[0] if items and items[0].n == 0 else None  # a later chunk has no issue entry
    replies = items[1:] if head is not None else items
    opening = _sentences(head.text) if head is not None else []
    problem = _quoted(opening[:1], 0)
    tried = [
        q
        for e in replies
        for s in _sentences(e.text)[:3]
        if re.search(r"\b(tried|try|workaround|reinstall|downgrad|upgrad|still|same)\b", s, re.I)
        for q in _quoted([s], e.n)
    ][:3]
    last = _state_entry(replies)
    state = _quoted([" ".join(last[1][:2])], last[0].n) if last else []
    questions = [
        q
        for i, e in enumerate(replies)
        if not any(r.author != e.author and not _plus_one(r) for r in replies[i + 1 :])
        for s in _sentences(e.text)
        if s.endswith(QUESTION_MARKS)  # nobody answered yet (above), in any script (？, ؟)
        for q in _quoted([s], e.n)
    ]
    return ThreadSummary(problem=problem, tried=tried, state=state, open_questions=questions[-3:])


def _state_entry(replies: list[Entry]) -> tuple[Entry, list[str]] | None:
    """The reply that says where things stand, and its sentences: the newest with words to quote
    (one that is only a pasted log or a picture has none; a bare +1 is none) by the author or a
    maintainer, never a stranger's. A drive-by "me too, any update?" was the Current state of a
    thread the team had answered, and of one nobody had (`unanswered` says so instead)."""
    said = (
        (e, s)
        for e in reversed(replies)
        if e.role != OTHER and not _plus_one(e)
        for s in [_sentences(e.text)]
        if s
    )
    return next(said, None)


def unanswered(items: list[Entry]) -> bool:
    """Others have replied to the issue, but neither its author nor a maintainer has: the
    thread's Current state, which `render` states in the bot's words (it is no one's claim to
    cite, and a chunk's entries alone cannot tell it)."""
    replies = [e for e in items if e.n != 0]
    return bool(replies) and all(e.role == OTHER for e in replies)


def owned_state(summary: ThreadSummary, items: list[Entry]) -> ThreadSummary:
    """The model's Current state as the extractive one picks it (_state_entry): where the author
    or a maintainer has replied, a state claim citing only other people's comments is dropped,
    and when none is left, the author's or maintainer's newest words are quoted instead (none
    when their replies have no words to quote: a pasted log, a picture). Where only others have
    replied, `render` states that instead of any claim."""
    replies = [e for e in items if e.n != 0]
    if not replies:
        return summary
    found = _state_entry(replies)
    roles = {e.n: e.role for e in items}
    state = [c for c in summary.state if any(roles.get(n) != OTHER for n in _sources(c))]
    if not state and found is not None:
        state = _quoted([" ".join(found[1][:2])], found[0].n)
    return summary.model_copy(update={"state": state})


def _quoted(sentences: list[str], n: int) -> list[str]:
    """The sentence cited `[n]`, clipped; none when clipping leaves nothing (it opens with a link
    longer than a claim)."""
    clipped = [_clip(s) for s in sentences]
    return [f"{c} [{n}]" for c in clipped if c]


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
    """The text cut to limit characters with `…`, between words: never inside a link, an `#N`,
    an `@login` or a commit SHA, whose cut start would point at another page, issue or person
    (`#1234` cut to `#12`, which the check refuses as invented, or, named in the thread too,
    links the wrong issue). Text in a script without spaces is cut between two of its letters.
    What the cut leaves open at its end (a `(`, a `[`, a `<`) goes too; "" if nothing is left."""
    if len(text) <= limit:
        return text
    cut = limit - 1
    while cut > 0 and _in_word(text, cut):
        cut -= 1
    head = text[:cut].rstrip().rstrip("([<{:=\"'").rstrip()
    return f"{head}…" if head else ""


def _in_word(text: str, i: int) -> bool:
    """Position i is between two characters of one word (no space, no unspaced-script letter)."""
    return all(not c.isspace() and not UNSPACED.match(c) for c in (text[i - 1], text[i]))


# -- rendering and checking -----------------------------------------------------------------
WAITING = "**Waiting on:** "
WRITTEN_BY = {AUTHOR: "by the author", MAINTAINER: "by a maintainer", OTHER: "by another user"}
NOBODY_ANSWERED = "Neither the author nor a maintainer has replied since the issue was opened."
NOT_JUDGED = (
    "not judged for a pull request (its reviews, review comments and pushes, which answer"
    " questions too, are not read)"
)


def render(
    summary: ThreadSummary,
    items: list[Entry],
    waiting: Waiting | None,
    how: str,
    digest: str,
    kind: str,
) -> str:
    """Markdown with every claim linked to its source comment, and the markers of the thread's
    hash (for caching) and of the kind of summary (an extractive one is redone when asked).
    `waiting` None: a pull request, whose wait is not judged (waiting_text)."""
    cites = {e.n: e for e in items}
    lines = ["### Thread summary", ""]
    for key, title in SECTIONS:
        claims = [_linked(c, cites) for c in getattr(summary, key)]
        if key == "state" and waiting is not None and unanswered(items):  # a PR's reviews unread
            claims = [NOBODY_ANSWERED]
        if claims:
            lines += [f"**{title}**", *[f"- {c}" for c in claims], ""]
    lines += [waiting_text(waiting), ""]
    source = f"{len(items) - 1} comments" + (" (not its reviews)" if waiting is None else "")
    lines.append(f"<sub>Summary by smolbot (a bot) from {source}; {how}.</sub>")
    return "\n".join(lines) + f"\n{marker(HASH_MARK + digest)}\n{marker(KIND_MARK + kind)}"


def waiting_text(waiting: Waiting | None) -> str:
    """The summary's Waiting-on line. None: a pull request, which the lifecycle does not judge
    (pushes and reviews answer there, and the bot reads neither), so no verdict is stated."""
    return WAITING + (waiting_line(waiting) if waiting is not None else NOT_JUDGED)


def waiting_in(body: str) -> str | None:
    """The Waiting-on line of a posted summary (the bot's own text: no claim line starts so)."""
    return next((ln for ln in body.splitlines() if ln.startswith(WAITING)), None)


def with_waiting(body: str, line: str) -> str:
    """The posted summary with its Waiting-on line replaced by line (or put before its footer):
    the wait changed, its claims did not, so no model call is needed to bring it up to date."""
    lines = body.split("\n")
    at = next((i for i, ln in enumerate(lines) if ln.startswith(WAITING)), None)
    if at is not None:
        lines[at] = line
    else:
        foot = next((i for i, ln in enumerate(lines) if ln.startswith("<sub>")), len(lines))
        lines[foot:foot] = [line, ""]
    return "\n".join(lines)


def waiting_line(w: Waiting) -> str:
    who = ", ".join(f"`{p}`" for p in w.who) or "nobody named"
    if w.on == "nobody":
        return f"nobody — {w.reason}"
    return f"the {w.on} ({who}) since {w.since.date()} — {w.reason}"


def _linked(claim: str, cites: dict[int, Entry]) -> str:
    """The claim, shown as text, and a link to each comment it cites with whose words they are:
    a maintainer's "fixed in 2.3" is not a stranger's (the issue is its author's)."""
    text = quiet(_shown(CITE.sub("", claim).strip()))
    links = []
    for n in dict.fromkeys(_sources(claim)):
        e = cites.get(n)
        link = (
            f"[{'issue' if n == 0 else f'comment {n}'}]({e.url})" if e and e.url else f"entry {n}"
        )
        links.append(f"{link} {WRITTEN_BY[e.role]}" if e and n != 0 else link)
    return f"{text} ({', '.join(links)})"


# a bare link or e-mail address as GitHub autolinks it, to be shown as code
BARE_LINK = re.compile(
    r"(?i)(?:(?:https?|ftp)://|www\.)[^\s<>\"'`)\]]+|(?:(?:mailto|xmpp):)?[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
)
# what opens a block at the start of a bullet's text: a heading, a quote, a list item, a fence
LEAD = re.compile(r"^(?:#{1,6}(?=\s|$)|>|[-+*](?=\s|$)|~{3}|\d{1,9}(?=[.)](?:\s|$)))")


def _shown(text: str) -> str:
    """Someone's words as the bot repeats them: shown, never acted on. A link copied from a
    thread is no link of the bot's (a stranger's `[comment 2](https://evil…)` read as one of
    its citations, in its voice): brackets are escaped (no Markdown link, image or reference),
    a bare URL or e-mail address is code (GitHub links none there), `<` is text (no raw HTML: no
    `<a href>`, no `<details>` that folds the rest of the bullet, its citation too), and a start
    that opens a block (a heading, a quote, a `~~~` fence) is escaped. The text's own code spans
    stay where which backticks pair is sure (as check_text reads them); else every backtick is
    escaped, so none pairs with the code around a link."""
    spans = list(CODE_SPAN.finditer(text)) if "`" in text and outside_code(text) != text else []
    parts, at = [], 0
    for m in spans:
        parts += [_escaped(text[at : m.start()]), m.group(0)]
        at = m.end()
    parts.append(_escaped(text[at:]))
    shown = ""
    for part in parts:  # code next to code: a space, so no two backtick runs become one
        shown += " " + part if shown.endswith("`") and part.startswith("`") else part
    lead = LEAD.match(shown)
    if lead is None:
        return shown
    end = lead.end() if lead.group(0)[0].isdigit() else 0  # `1.` → `1\.`, `#` → `\#`
    return f"{shown[:end]}\\{shown[end:]}"


def _escaped(prose: str) -> str:
    """Prose (no code span in it) with its links as code and Markdown's link syntax escaped."""
    out, at = [], 0
    for m in BARE_LINK.finditer(prose):
        link = m.group(0).rstrip(".,;:!?*_~'\"")
        out += [_literal(prose[at : m.start()]), f"`{link}`"]
        at = m.start() + len(link)
    out.append(_literal(prose[at:]))
    return "".join(out)


def _literal(prose: str) -> str:
    return re.sub(r"([\\\[\]`])", r"\\\1", prose).replace("<", "&lt;")


def check_summary(summary: ThreadSummary, thread: Thread, items: list[Entry]) -> CheckResult:
    """Reject model text whose links, issue numbers, other repositories' issues (`owner/repo#N`),
    commit SHAs (GitHub links one) or @-names the thread itself does not contain. Raw HTML and
    open code blocks need no check here, as they do in a first response: a claim is shown as
    text (`_shown`), where neither does anything."""
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
