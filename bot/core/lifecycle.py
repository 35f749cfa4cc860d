"""Lifecycle decisions: who an issue waits on, when to re-ping, when to close — pure functions."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from bot.core.actions import Action, Close, Comment, NoOp, RemoveLabel
from bot.core.config import CONFIG_PATH, RepoConfig
from bot.core.labels import canon, find_label, same_label, spelled
from bot.core.markers import markers_in, quiet
from bot.ports import CommentData, EventData, IssueData

# what an association alone takes for the team (a thread file, the ranking: nothing looked up)
TEAM_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
# the one association that proves write access. GitHub gives MEMBER to any member of the owning
# organisation and COLLABORATOR to any outside collaborator, whatever their permission on the
# repository (read too): where a lookup can be made, it confirms those two
WRITE_ASSOCIATIONS = frozenset({"OWNER"})
CLOCK_EVENTS = frozenset({"labeled", "unlabeled", "assigned", "unassigned", "reopened"})
# the exemptions' own events: one after a ping means the issue was exempt for part of the time
# the ping gave (locked: its author could not even answer), so no close comes on that ping
EXEMPT_EVENTS = {
    "locked": "locked",
    "unlocked": "locked",
    "milestoned": "in a milestone",
    "demilestoned": "in a milestone",
    "pinned": "pinned",
    "unpinned": "pinned",
}
PING_MARK, CLOSE_MARK = "lifecycle:ping:", "lifecycle:close:"
FOREVER = datetime.max.replace(tzinfo=UTC)
# a ping is posted some way into a daily sweep (or that day's run started late), so "7 days after
# the last ping" falls just after the 7th day's run: the ping that announces a close may come
# this much before the exact time, never sooner and never before its day (UTC), so it comes on
# that day's run and not the next. A close has no grace: the ping promised "within N days", so
# it comes at the first run after ping + N days (often the next day's), never sooner
SWEEP_GRACE = timedelta(hours=12)
PULL_REQUEST = "not swept: a pull request (the lifecycle pings and closes issues only)"
PINNED = "exempt: pinned"
GHOST = "ghost"  # GitHub's login for a deleted account: never pinged
WaitsOn = Literal["author", "maintainer", "assignee", "nobody"]

PING_AUTHOR = (
    "Hi @{who}, this issue is waiting for your reply{what}.{close_note}\n\n"
    "_I'm smolbot, a bot: I re-ping once when a thread has been quiet for {days} days._"
)
PING_TEAM = (
    "Hi {whos}, {author} {did} {when} and this issue is waiting for a maintainer's reply{what}."
    "\n\n_I'm smolbot, a bot: I re-ping once when a thread has been quiet for {days} days._"
)
EDITED = {"comment": "edited a comment", "title": "retitled the issue"}  # PING_TEAM's {did}
CLOSE_NOTE = (
    " If there is no answer within {days} days, I will close it; it can be reopened any time."
)
CLOSE_BODY = (
    "Closing as not planned: nobody answered the question for {days} days after the reminder. "
    "{ask} this still matters, reopen the issue (or comment and ask a maintainer to) and add "
    "the missing details.\n\n_I'm smolbot, a bot; a reopen resets my clock._"
)


class Team(frozenset[str]):
    """Who can write to the repository (logins, lower case), as looked up; `outsiders`: those
    looked up and found without write, whom a MEMBER or COLLABORATOR association does not make
    team. A plain frozenset (nothing looked up) leaves the association to say who else is."""

    outsiders: frozenset[str]

    def __new__(cls, writers: Iterable[str] = (), outsiders: Iterable[str] = ()) -> Team:
        team = super().__new__(cls, (login.lower() for login in writers))
        team.outsiders = frozenset(login.lower() for login in outsiders) - team
        return team

    @classmethod
    def of(cls, roles: dict[str, bool]) -> Team:
        """The team of looked-up roles (login -> can write)."""
        return cls(
            (p for p, can in roles.items() if can), (p for p, can in roles.items() if not can)
        )


def on_team(login: str, association: str, team: frozenset[str] = frozenset()) -> bool:
    """Whether `login` is on the team: looked up and can write (in `team`), or not looked up and
    its association says so (an owner's always does)."""
    who, said = login.lower(), association.upper()
    if said in WRITE_ASSOCIATIONS or who in team:
        return True
    outsiders = team.outsiders if isinstance(team, Team) else frozenset()
    return said in TEAM_ASSOCIATIONS and who not in outsiders


@dataclass(frozen=True)
class Thread:
    """One issue as the decision sees it: the issue, its comments and its events."""

    issue: IssueData
    comments: tuple[CommentData, ...] = ()
    events: tuple[EventData, ...] = ()


@dataclass(frozen=True)
class Waiting:
    on: WaitsOn
    who: tuple[str, ...]
    since: datetime  # the last human activity that counts (the clock)
    reason: str
    question: CommentData | None = None  # the maintainer comment the author should answer
    author_answered: bool = False  # needs-info is set and the author has answered since
    asked_by: str | None = None  # on the team: someone else's question (not the author's) waits
    said_at: datetime | None = None  # on the team: when the answer or question it waits on came
    edited_after: datetime | None = None  # on the team: the issue was edited after this ping
    edited_by: str | None = None  # on the team: who edited it after that ping (None: unsaid)
    # what was edited: "comment" (edited_by's), "title", "description", "title or description"
    edited: str = ""
    replied_by: str | None = None  # on the team: someone outside it replied to the question
    linked_by: str | None = None  # on the team: who linked a pull request or a commit after the
    # question; which: "pull request #12" ("a pull request": GitHub did not say), "commit 1a2b3c4"
    linked: str = ""


@dataclass(frozen=True)
class Decision:
    actions: list[Action]
    waiting: Waiting | None
    next_due: datetime = FOREVER  # before this, nothing changes unless the thread does
    detail: dict[str, object] = field(default_factory=dict)


def parse_time(text: str) -> datetime:
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def epoch_or_none(text: object) -> float | None:
    """A timestamp's epoch seconds (ISO 8601, GitHub's or a CSV's), None if it is not one."""
    try:
        return parse_time(str(text)).timestamp() if text else None
    except ValueError:
        return None


def is_bot(login: str, kind: str, bot_login: str) -> bool:
    return kind == "Bot" or login == bot_login or login.endswith("[bot]")


# a line that talks to the bot (`/smolbot summarize`), as Markdown shows it: not indented as code
COMMAND_LINE = re.compile(r"^ {0,3}/smolbot\b", re.I)


def without_commands(body: str) -> str:
    """The comment's text without its `/smolbot …` command lines (stripped)."""
    lines = body.splitlines()
    if not any(COMMAND_LINE.match(ln) for ln in lines):
        return body.strip()
    return "\n".join(ln for ln in lines if not COMMAND_LINE.match(ln)).strip()


def only_commands(body: str) -> bool:
    """The comment is `/smolbot …` lines and nothing else: it talks to the bot, not the thread
    (an empty body is not a command)."""
    return bool(body.strip()) and not without_commands(body)


def is_reply(author: str, kind: str, body: str, bot_login: str) -> bool:
    """A comment that counts as someone's reply for waiting-on: written by a person, and more
    than `/smolbot` command lines (asking the bot for a summary answers nobody)."""
    return not is_bot(author, kind, bot_login) and not only_commands(body)


def own_words(body: str) -> str:
    """What the comment itself says: without quotes, code, links and HTML comments."""
    text = re.sub(r"```.*?```|`[^`]*`|<!--.*?(?:-->|$)|https?://\S+", "", body, flags=re.S)
    return "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith(">"))


def asks_something(body: str) -> bool:
    """A question mark outside quotes, code, links and HTML comments: the comment asks the
    reader something (`search.html?q=fork` does not). Any script's question mark: the full-width
    `？` of Chinese and Japanese, the Arabic `؟`, the Greek `;` (U+037E), the Armenian `՞`, the
    Ethiopic `፧` (an issue asked in them never waited on its author, so was never pinged)."""
    said = own_words(body)
    return any(mark in said for mark in "?？﹖؟\u037e՞፧⸮‽⁇⁈⁉")


# @login or @org/team, not an e-mail address (a@b.org) nor inside a word
MENTION = re.compile(r"(?<![\w@`])@([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:/[\w.-]+)?)")


def mentions(body: str) -> list[str]:
    """Who the comment @-mentions outside quotes, code, links and HTML comments (logins and
    org/team names, as written, in order, once each)."""
    return list(dict.fromkeys(MENTION.findall(own_words(body))))


# -- policy ---------------------------------------------------------------------------------
def ignore_reason(by: str) -> str:
    return f"exempt: {by} said /smolbot ignore on this issue"


def left_alone(issue: IssueData, cfg: RepoConfig, ignored_by: str | None = None) -> str | None:
    """Why no feature writes to this issue unasked (pings, closes, automatic summaries), or None:
    a maintainer said `/smolbot ignore` (ignored_by: who, from the store), or it has one of the
    top-level exempt_labels ("never touched by any feature"). A maintainer's explicit command
    still runs."""
    if ignored_by is not None:
        return ignore_reason(ignored_by)
    labels = {canon(lb) for lb in issue.labels}  # `help-wanted` is `help wanted`
    exempt = [lb for lb in cfg.exempt_labels if canon(lb) in labels]
    return f"exempt: label {exempt[0]}" if exempt else None


def exemption(issue: IssueData, cfg: RepoConfig, ignored_by: str | None = None) -> str | None:
    """Why the lifecycle leaves this issue alone (from the issue, and who said `/smolbot ignore`
    on it if anyone did), or None."""
    lc = cfg.lifecycle
    labels = {canon(lb) for lb in issue.labels}  # `help-wanted` is `help wanted`
    exempt = [lb for lb in lc.exempt_labels if canon(lb) in labels]
    alone = left_alone(issue, cfg, ignored_by)
    checks: list[tuple[bool, str]] = [
        (not lc.enabled, f"lifecycle disabled in {CONFIG_PATH}"),
        (issue.state != "open", f"not open ({issue.state})"),
        (issue.is_pull_request, PULL_REQUEST),
        (alone is not None, alone or ""),
        (bool(exempt), f"exempt: label {exempt[0] if exempt else ''}"),
        (
            bool(lc.only_labels) and not {canon(x) for x in lc.only_labels} <= labels,
            f"not labelled {', '.join(lc.only_labels)} (only_labels)",
        ),
        (lc.exempt_assigned and bool(issue.assignees), "exempt: assigned"),
        (lc.exempt_milestones and issue.milestone is not None, "exempt: has a milestone"),
        (issue.pinned, PINNED),
        (issue.locked, "exempt: locked"),
        (
            lc.start_date is not None and parse_time(issue.created_at).date() < lc.start_date,
            f"exempt: opened before start_date {lc.start_date}",
        ),
    ]
    return next((why for hit, why in checks if hit), None)


def pinned_by(events: tuple[EventData, ...] | list[EventData], default: bool = False) -> bool:
    """Whether the issue is pinned on GitHub, from its last pinned/unpinned timeline event (the
    REST issue does not say); `default` when it has none."""
    marks = sorted(
        (e for e in events if e.kind in ("pinned", "unpinned")), key=lambda e: e.created_at
    )
    return marks[-1].kind == "pinned" if marks else default


# -- waiting-on -----------------------------------------------------------------------------
def issue_spelling(thread: Thread, name: str) -> str:
    """A status label as this issue carries it, or carried it (`needs info`, `status: needs-info`
    for needs-info: triage adds the repository's own spelling), else `name`. The spelling it
    carries now first: a label renamed since (`needs-info` to `status: needs-info`) keeps its
    old name in the past `labeled` events, which must not hide the label that is there."""
    now = spelled(name, thread.issue.labels)
    if find_label(thread.issue.labels, now) is not None:
        return now
    return spelled(name, [e.label for e in thread.events if e.label])


def waiting_on(
    thread: Thread,
    bot_login: str,
    needs_info: str = "needs-info",
    team: frozenset[str] = frozenset(),
) -> Waiting:
    """Who the issue waits on, from its events alone. The bot's own events never count, nor do
    comments that are only `/smolbot` commands."""
    issue, author = thread.issue, thread.issue.author
    needs_info = issue_spelling(thread, needs_info)
    created = parse_time(issue.created_at)
    if issue.state != "open":
        return Waiting("nobody", (), created, f"the issue is {issue.state}")
    people = [
        c for c in _by_time(thread.comments) if is_reply(c.author, c.author_type, c.body, bot_login)
    ]
    by_team = [
        c for c in people if c.author != author and on_team(c.author, c.author_association, team)
    ]
    by_author = [c for c in people if c.author == author]
    # an answer the author edits into an earlier comment is her answer as of the edit
    answers = [_answered_at(c) for c in by_author]
    clock = max([created, *_times(by_team), *answers, *_human_event_times(thread, bot_login)])
    # a wait on the author restarts when the bot took needs-info off (the author had answered,
    # though the answer may be deleted since): a close follows a ping nobody answered; someone
    # else's reply after the question moves the wait to the team (_replied_after)
    heard = max([clock, *_unlabeled(thread, needs_info, bot_login, by_bot=True)])
    if is_bot(author, issue.author_type, bot_login):  # a bot never answers: never waited on
        return _unless_asked(issue, people, by_team, clock, f"opened by a bot ({author})")
    last_team = by_team[-1] if by_team else None
    last_author = max(answers, default=None)
    if find_label(issue.labels, needs_info) is not None:
        asked = _label_time(thread, needs_info) or (
            parse_time(last_team.created_at) if last_team else created
        )
        if last_author is None or last_author <= asked:
            moved = _answered_otherwise(thread, people, by_team, last_team, asked, clock, bot_login)
            if moved is not None:
                return moved
            return Waiting("author", (author,), heard, f"label {needs_info} is set", last_team)
        author_on_team = on_team(author, issue.author_association, team)
        up = _follow_up(last_team, last_author, author, author_on_team)
        if up is not None:  # still hers to answer: the label stays on
            asked = parse_time(up.created_at)
            moved = _answered_otherwise(thread, people, by_team, up, asked, clock, bot_login)
            if moved is not None:
                return moved
            why = f"{up.author} asked a follow-up after the author's answer"
            return Waiting("author", (author,), heard, why, up)
        if not any(parse_time(c.created_at) > asked for c in by_author):
            # only a comment from before the request edited since: the answer edited in, or a
            # typo fixed (or a maintainer's fence around her log: GitHub says not who edited)
            why = (
                "the author edited a comment from before the needs-info request (the answer may"
                f" be edited in); a maintainer looks, {needs_info} stays"
            )
            return _on_team(issue, last_team, clock, why, said_at=last_author)
        why = "the author answered the needs-info request"
        return _on_team(issue, last_team, clock, why, True, said_at=last_author)
    author_is_team = on_team(author, issue.author_association, team)
    if last_team is None and last_author is None:
        if author_is_team:
            return _unless_asked(
                issue, people, by_team, clock, "opened by the team; nobody was asked anything"
            )
        return _on_team(issue, None, clock, "nobody from the team has replied yet")
    if last_team is not None and (
        last_author is None or parse_time(last_team.created_at) > last_author
    ):
        said = without_commands(last_team.body)
        took_off = max(_unlabeled(thread, needs_info, bot_login, by_bot=False), default=None)
        if took_off is not None and took_off > parse_time(last_team.created_at):
            why = f"{needs_info} was taken off after {last_team.author}'s last comment"
            return _unless_asked(issue, people, by_team, clock, why)
        if asks_something(said) and not author_is_team:
            named = mentions(said)
            if _asks_the_author(last_team, author):
                asked = parse_time(last_team.created_at)
                moved = _answered_otherwise(
                    thread, people, by_team, last_team, asked, clock, bot_login
                )
                if moved is not None:
                    return moved
                return Waiting(
                    "author", (author,), heard, f"{last_team.author} asked something", last_team
                )
            to = ", ".join(f"@{m}" for m in named)
            why = f"{last_team.author} asked {to} something, not the author"
            return _unless_asked(issue, people, by_team, clock, why)
        why = "a maintainer replied last and asked nothing"
        return _unless_asked(issue, people, by_team, clock, why)
    if author_is_team:
        return _unless_asked(issue, people, by_team, clock, "the author is on the team")
    why = "the author answered; nobody from the team replied"
    return _on_team(issue, last_team, clock, why, said_at=last_author)


def _follow_up(
    last_team: CommentData | None, last_author: datetime, author: str, author_is_team: bool
) -> CommentData | None:
    """The team's last comment when it came after the author's answer and asks her something (a
    follow-up question, so needs-info is not done), else None."""
    if last_team is None or author_is_team or parse_time(last_team.created_at) <= last_author:
        return None
    return last_team if _asks_the_author(last_team, author) else None


def _asks_the_author(comment: CommentData, author: str) -> bool:
    """The comment asks something and names no one, or names the author among others."""
    said = without_commands(comment.body)
    named = {m.lower() for m in mentions(said)}
    return asks_something(said) and (not named or author.lower() in named)


PLUS_ONE = re.compile(r"\s*(?:\+1|:\+1:|\N{THUMBS UP SIGN})[\s!.]*")


def _replied_after(
    people: list[CommentData], by_team: list[CommentData], author: str, asked: datetime
) -> CommentData | None:
    """The last reply after the question from someone neither the author nor on the team (a
    co-reporter, a co-worker of the author), or None. A bare +1 answers nothing."""
    others = [
        c
        for c in people
        if c.author != author
        and c not in by_team
        and parse_time(c.created_at) > asked
        and not PLUS_ONE.fullmatch(own_words(without_commands(c.body)))
    ]
    return others[-1] if others else None


def _answered_otherwise(
    thread: Thread,
    people: list[CommentData],
    by_team: list[CommentData],
    last_team: CommentData | None,
    asked: datetime,
    clock: datetime,
    bot_login: str,
) -> Waiting | None:
    """The wait on the author moved to the team by what came after the question other than her
    comment, the later of: someone else's reply (_replied_after) and a pull request or commit
    linked to the issue (_linked_after). None: nothing did, the author still owes the answer."""
    issue = thread.issue
    other = _replied_after(people, by_team, issue.author, asked)
    link = _linked_after(thread, bot_login, asked)
    if other is None:
        return None if link is None else _linked(issue, last_team, link, clock)
    if link is not None and parse_time(link.created_at) >= parse_time(other.created_at):
        return _linked(issue, last_team, link, clock)
    return _outsider_replied(issue, last_team, other, clock)


# work linked to the issue: a pull request that mentions it ("Fixes #1"), one connected to it in
# the sidebar (GitHub's `connected` event names no pull request), or a commit pushed here whose
# message names it (`referenced`: "Refs #1", work under way on a branch)
LINK_EVENTS = frozenset({"cross-referenced", "connected", "referenced"})


def _linked_after(thread: Thread, bot_login: str, asked: datetime) -> EventData | None:
    """The last pull request or commit a person (not a bot: a dependency bump names issues too)
    linked to the issue after the question, or None. Another issue's mention ("same as #1")
    answers nothing, nor does another repository's pull request or commit (a downstream
    workaround or a fork's change mentions the issue; it fixes nothing here)."""
    links = [
        e
        for e in thread.events
        if e.kind in LINK_EVENTS
        and (
            e.kind == "connected"
            or (e.kind == "cross-referenced" and e.source_is_pull_request)
            or (e.kind == "referenced" and e.commit_id is not None)
        )
        and e.source_repo.lower() in _own_names(thread.issue)
        and not is_bot(e.actor, e.actor_type, bot_login)
        and parse_time(e.created_at) > asked
    ]
    return max(links, key=lambda e: parse_time(e.created_at), default=None)


def _linked(
    issue: IssueData, last_team: CommentData | None, link: EventData, clock: datetime
) -> Waiting:
    """A pull request or commit was linked after the question: the fix or the answer may be
    there, so a maintainer looks (the author is not pinged, nor the issue closed "nobody
    answered")."""
    at = parse_time(link.created_at)
    if link.commit_id is not None:
        what = f"commit {link.commit_id[:7]}"  # GitHub links a short hash to this repository's
    elif link.source_number:
        what = f"pull request {_ref(issue, link)}"
    else:
        what = "a pull request"
    why = f"{link.actor} linked {what} after the question to the author"
    waits = _on_team(issue, last_team, max(clock, at), why, said_at=at)
    return replace(waits, linked_by=link.actor, linked=what)


def _ref(issue: IssueData, link: EventData) -> str:
    """How the ping names the linked pull request: #N in this repository, owner/name#N in
    another (GitHub links a bare #N to this repository's)."""
    same = link.source_repo.lower() in _own_names(issue)
    return f"{'' if same else link.source_repo}#{link.source_number}"


def repo_of(html_url: str) -> str | None:
    """The owner/name an issue's html_url gives (lowercased), None without one."""
    parts = html_url.split("://", 1)[-1].split("/")
    return f"{parts[1]}/{parts[2]}".lower() if len(parts) > 4 and parts[3] == "issues" else None


def _own_names(issue: IssueData) -> tuple[str, ...]:
    """What this repository is called, lower case: the name the job has, and the one in the
    issue's own address, which GitHub gives as the repository is named now (a job queued before
    a rename still has the old name; the timeline names a linked pull request's repository by
    its current one). "": a link that names no repository, as GitHub's `connected` events."""
    now = repo_of(issue.html_url or "")
    return ("", issue.repo.lower(), *((now,) if now else ()))


def _outsider_replied(
    issue: IssueData, last_team: CommentData | None, other: CommentData, clock: datetime
) -> Waiting:
    """Someone else replied to the question asked of the author: the details may be there, so a
    maintainer looks (the author is not pinged, nor the issue closed "nobody answered")."""
    at = parse_time(other.created_at)
    why = f"{other.author} replied after the question to the author"
    return replace(
        _on_team(issue, last_team, max(clock, at), why, said_at=at), replied_by=other.author
    )


def _unless_asked(
    issue: IssueData,
    people: list[CommentData],
    by_team: list[CommentData],
    clock: datetime,
    why: str,
) -> Waiting:
    """Nobody is asked anything (why), unless someone outside the team asked a question after
    the team's last word (the author's, when the author is on the team): then the team is."""
    team_said = by_team + [c for c in people if c.author == issue.author]
    after = max(_times(team_said), default=parse_time(issue.created_at))
    asked = [
        c
        for c in people
        if c not in team_said
        and parse_time(c.created_at) > after
        and asks_something(without_commands(c.body))
    ]
    if not asked:
        return Waiting("nobody", (), clock, why)
    last = asked[-1]
    since = max(clock, parse_time(last.created_at))
    who = by_team[-1] if by_team else None
    why = f"{last.author} asked something after the team's last reply"
    asker = None if last.author == issue.author else last.author
    return _on_team(issue, who, since, why, asked_by=asker, said_at=parse_time(last.created_at))


def _on_team(
    issue: IssueData,
    last_team: CommentData | None,
    clock: datetime,
    why: str,
    answered: bool = False,
    asked_by: str | None = None,
    said_at: datetime | None = None,
) -> Waiting:
    assignees = tuple(a for a in issue.assignees if a != issue.author)
    if assignees:
        return Waiting("assignee", assignees, clock, why, None, answered, asked_by, said_at)
    who = (last_team.author,) if last_team else ()
    return Waiting("maintainer", who, clock, why, None, answered, asked_by, said_at)


def _by_time(comments: tuple[CommentData, ...]) -> list[CommentData]:
    return sorted(comments, key=lambda c: (parse_time(c.created_at), c.id))


def _answered_at(c: CommentData) -> datetime:
    """When the comment last said something: its edit (updated_at) if later than its writing."""
    at = parse_time(c.created_at)
    return max(at, parse_time(c.updated_at)) if c.updated_at else at


def _times(comments: list[CommentData]) -> list[datetime]:
    return [parse_time(c.created_at) for c in comments]


def _human_event_times(thread: Thread, bot_login: str) -> list[datetime]:
    return [
        parse_time(e.created_at)
        for e in thread.events
        if e.kind in CLOCK_EVENTS and not is_bot(e.actor, e.actor_type, bot_login)
    ]


def _label_time(thread: Thread, label: str) -> datetime | None:
    times = [
        parse_time(e.created_at)
        for e in thread.events
        if e.kind == "labeled" and same_label(e.label, label)
    ]
    return max(times, default=None)


def _unlabeled(thread: Thread, label: str, bot_login: str, by_bot: bool) -> list[datetime]:
    """When the label was taken off by a person (by_bot False) or by a bot (True: smolbot does
    when the author answers, which is no one's decision that the question is moot)."""
    return [
        parse_time(e.created_at)
        for e in thread.events
        if e.kind == "unlabeled"
        and same_label(e.label, label)
        and is_bot(e.actor, e.actor_type, bot_login) == by_bot
    ]


Party = Literal["author", "maintainer"]
# lifecycle:ping:<date>:<party>[:close<days>][:text<hash>[:body<hash>]] (who was pinged; the
# close it announced, if any; the issue's title and description as they were, hashed, and the
# description alone: a retitle is told apart by who made it); before them, lifecycle:ping:<date>
PING_MARKER = re.compile(
    r"lifecycle:ping:(\d{4}-\d{2}-\d{2})(?::(author|maintainer))?(?::close(\d+))?"
    r"(?::text([0-9a-f]{8}))?(?::body([0-9a-f]{8}))?"
)
# the close as an older ping's words announced it (CLOSE_NOTE)
ANNOUNCED = re.compile(r"If there is no answer within (\d+) days, I will close it")


@dataclass(frozen=True)
class Ping:
    """One re-ping of the bot's, read from the hidden marker in its comment."""

    at: datetime
    party: Party | None  # who it asked: the author or a maintainer (None: an old ping, unsaid)
    marker: str = ""
    close_days: int | None = None  # it said the issue closes this many days on; None: it did not
    shown: bool = True  # False: the store recorded it, but its comment is gone (deleted)
    simulated: bool = False  # a dry-run's ping, never posted: it counts in dry-run decisions only
    described: str | None = None  # the issue's title and description then (described_as)
    description: str | None = None  # its description alone then (description_hash); None: older


def party_of(w: Waiting) -> Party:
    """Who a ping for this wait goes to: the author, or the team (a maintainer or assignee)."""
    return "author" if w.on == "author" else "maintainer"


def ping_marker(
    day: datetime,
    party: Party,
    close_days: int | None = None,
    described: str | None = None,
    description: str | None = None,
) -> str:
    close = f":close{close_days}" if close_days is not None else ""
    text = f":text{described}" if described is not None else ""
    body = f":body{description}" if described is not None and description is not None else ""
    return f"{PING_MARK}{day.date().isoformat()}:{party}{close}{text}{body}"


def described_as(title: str, body: str) -> str:
    """A short hash of an issue's title and description: a ping keeps it in its marker, so an
    edit after the ping is seen (GitHub makes no event for a description edit)."""
    text = f"{title.strip()}\n{body.replace(chr(13), '').strip()}"
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def description_hash(body: str) -> str:
    """A short hash of an issue's description alone: with described_as, a ping's marker tells a
    retitle (GitHub's `renamed` event says who made it) from a description edit (no event)."""
    return hashlib.sha256(body.replace(chr(13), "").strip().encode()).hexdigest()[:8]


def described_in(marker: str) -> str | None:
    """The title-and-description hash a ping marker holds (None: a ping of before they did)."""
    got = PING_MARKER.fullmatch(marker)
    return got.group(4) if got else None


def description_in(marker: str) -> str | None:
    """The description's own hash a ping marker holds (None: a ping of before it did)."""
    got = PING_MARKER.fullmatch(marker)
    return got.group(5) if got else None


def pings_in(thread: Thread, bot_login: str) -> list[Ping]:
    """The bot's re-pings, oldest first, from the hidden markers in its own comments. A marker of
    before they named the party (lifecycle:ping:<date>) is read from the ping's words."""
    found: list[Ping] = []
    for c in thread.comments:
        if c.author != bot_login:
            continue
        marks = sorted(m for m in markers_in(c.body) if m.startswith(PING_MARK))
        if not marks:
            continue
        party, close = read_ping_marker(marks[0])
        if party is None:  # an older ping: its words say whom it pinged and if it announced a close
            if "is waiting for your reply" in c.body:
                party = "author"
            elif "is waiting for a maintainer's reply" in c.body:
                party = "maintainer"
            said = ANNOUNCED.search(c.body)
            close = int(said.group(1)) if said else None
        at, mark = parse_time(c.created_at), marks[0]
        texts = described_in(mark), description_in(mark)
        found.append(Ping(at, party, mark, close, described=texts[0], description=texts[1]))
    return sorted(found, key=lambda p: p.at)


def read_ping_marker(marker: str) -> tuple[Party | None, int | None]:
    """Whom a ping marker says it pinged, and the close it announced (None, None: it says not)."""
    got = PING_MARKER.fullmatch(marker)
    if got is None or not got.group(2):
        return None, None
    party: Party = "author" if got.group(2) == "author" else "maintainer"
    return party, int(got.group(3)) if got.group(3) else None


def with_recorded(shown: list[Ping], recorded: tuple[Ping, ...] | list[Ping]) -> list[Ping]:
    """The thread's pings and those the store recorded whose comment is gone from the thread
    (a maintainer deleted it): those were sent all the same. A dry-run's simulated ping was
    never in the thread: it counts as shown."""
    markers = {p.marker for p in shown}
    gone = [
        p if p.simulated else replace(p, shown=False) for p in recorded if p.marker not in markers
    ]
    return sorted([*shown, *gone], key=lambda p: p.at)


def ping_times(thread: Thread, bot_login: str) -> list[datetime]:
    """When the bot re-pinged, read from the hidden markers in its own comments."""
    return [p.at for p in pings_in(thread, bot_login)]


def closing_enabled(cfg: RepoConfig) -> bool:
    """Closing is opt-in: only a config file that says `lifecycle: close: true` turns it on."""
    return cfg.lifecycle.close and "close" in cfg.lifecycle.model_fields_set


# -- decision -------------------------------------------------------------------------------
def decide(
    thread: Thread,
    cfg: RepoConfig,
    now: datetime,
    bot_login: str,
    *,
    what_is_needed: str = "",
    team: frozenset[str] = frozenset(),
    ignored_by: str | None = None,
    recorded: tuple[Ping, ...] | list[Ping] = (),
) -> Decision:
    """The lifecycle's actions for one issue now: remove needs-info, re-ping, close — or why not
    (ignored_by: who said `/smolbot ignore` on the issue, if anyone did; recorded: the pings the
    store recorded for it, its comment deleted or not)."""
    why = exemption(thread.issue, cfg, ignored_by)
    if why:
        # unpinning may leave the issue's updated_at as it was: a pinned issue is looked at again
        # on the next sweep (GitHub pins at most 3 a repository)
        return Decision([NoOp(why, what="lifecycle")], None, now if why == PINNED else FOREVER)
    w = waiting_on(thread, bot_login, cfg.triage.needs_info_label, team)
    first: list[Action] = []
    if w.author_answered:
        label = issue_spelling(thread, cfg.triage.needs_info_label)
        first.append(RemoveLabel(label, "the author answered"))
    if w.on == "nobody":
        return Decision([*first, NoOp(f"not waiting: {w.reason}", what="lifecycle")], w)
    w = edited_since_ping(thread, bot_login, w, recorded, team)
    rest, due = _ping_or_close(thread, cfg, now, bot_login, w, what_is_needed, recorded)
    return Decision([*first, *rest], w, due, {"waiting_on": w.on, "who": list(w.who)})


def edited_since_ping(
    thread: Thread,
    bot_login: str,
    w: Waiting,
    recorded: tuple[Ping, ...] | list[Ping] = (),
    team: frozenset[str] = frozenset(),
) -> Waiting:
    """A wait on the author moves to the team when the issue's title or description is not what
    the wait's last ping saw (its marker's hash), or a person's comment was edited after that
    ping (its updated_at): the author may have edited the answer in, as the ping invites, so it
    is never closed on that; a maintainer is asked to look. A ping without the hash (older ones)
    says nothing of the description; the bot's own edits (a summary) say nothing at all, nor
    do the team's (a maintainer fixing her own question answers nothing the author owes)."""
    if w.on != "author":
        return w
    pings = with_recorded(pings_in(thread, bot_login), recorded)
    mine = [p for p in pings if p.at >= w.since and p.party in (None, "author")]
    if not mine:
        return w
    at = mine[-1].at
    edited = _comment_edited_after(thread, bot_login, at, team)
    if edited is not None:
        why = (
            f"{edited.author}'s comment was edited after the ping on {at.date()} (the answer"
            " may have been edited in); not closed, left for a maintainer"
        )
        since = parse_time(edited.updated_at)
        waits = _on_team(thread.issue, w.question, since, why, said_at=since)
        return replace(waits, edited_after=at, edited_by=edited.author, edited="comment")
    ping, issue = mine[-1], thread.issue
    if ping.described in (None, described_as(issue.title, issue.body)):
        return w
    if ping.description == description_hash(issue.body):  # the title alone changed
        return _retitled(thread, bot_login, w, at, team)
    # GitHub makes no event for a description edit: who made it is not said (the author, or a
    # maintainer tidying it up); an older ping's hash does not tell the title from it
    what = "title or description" if ping.description is None else "description"
    why = (
        f"the issue's {what} was edited after the ping on {at.date()} (the answer"
        " may have been edited in); not closed, left for a maintainer"
    )
    return replace(_on_team(issue, w.question, at, why), edited_after=at, edited=what)


def _retitled(
    thread: Thread, bot_login: str, w: Waiting, at: datetime, team: frozenset[str]
) -> Waiting:
    """The title alone changed since the ping at `at`. The last `renamed` event after it says
    who did: the team or a bot (a clearer title) leaves the wait on the author as it was; the
    author, or someone else outside the team, may have put the answer there, so a maintainer is
    asked to look, told who retitled it (no event: nobody is named)."""
    renames = [e for e in thread.events if e.kind == "renamed" and parse_time(e.created_at) > at]
    last = max(renames, key=lambda e: parse_time(e.created_at), default=None)
    if last is not None and _team_or_bot(thread, last, bot_login, team):
        return w
    since = parse_time(last.created_at) if last is not None else at
    by = last.actor if last is not None else None
    why = (
        f"{by or 'someone'} retitled the issue after the ping on {at.date()} (the answer may be"
        " in the title); not closed, left for a maintainer"
    )
    waits = _on_team(thread.issue, w.question, since, why, said_at=since)
    return replace(waits, edited_after=at, edited_by=by, edited="title")


def _team_or_bot(thread: Thread, e: EventData, bot_login: str, team: frozenset[str]) -> bool:
    """The event is the team's or a bot's, not the author's (nor anyone's outside the team)."""
    if e.actor == thread.issue.author:
        return False
    return is_bot(e.actor, e.actor_type, bot_login) or _known_team(thread, e.actor, team)


def _known_team(thread: Thread, login: str, team: frozenset[str]) -> bool:
    """Whether `login` is on the team as far as the decision knows: looked up (team), or the
    issue or one of their comments says so (author_association). Someone seen only in the
    timeline is not, unless looked up (the sweep looks up who retitled an issue)."""
    if login.lower() in team:
        return True
    said = [c.author_association for c in thread.comments if c.author == login]
    if login == thread.issue.author:
        said.append(thread.issue.author_association)
    return any(on_team(login, association, team) for association in said)


def _comment_edited_after(
    thread: Thread, bot_login: str, at: datetime, team: frozenset[str] = frozenset()
) -> CommentData | None:
    """The last comment by a person outside the team (the author, or someone else as in
    _replied_after; not a bot, nor only `/smolbot` commands) edited after `at` (its updated_at
    later than both its created_at and `at`), or None. A host that does not say when a comment
    was edited (updated_at "") edits nothing."""
    author = thread.issue.author
    edited = [
        c
        for c in thread.comments
        if c.updated_at
        and is_reply(c.author, c.author_type, c.body, bot_login)
        and (c.author == author or not on_team(c.author, c.author_association, team))
        and parse_time(c.updated_at) > max(at, parse_time(c.created_at))
    ]
    return max(edited, key=lambda c: parse_time(c.updated_at), default=None)


def _ping_or_close(
    thread: Thread,
    cfg: RepoConfig,
    now: datetime,
    bot: str,
    w: Waiting,
    need: str,
    recorded: tuple[Ping, ...] | list[Ping] = (),
) -> tuple[list[Action], datetime]:
    """The re-ping or close this wait calls for now, or why not, and when that may change. The
    ping that announces a close is due SWEEP_GRACE (12 hours) before its exact time, never
    before its day: the daily run of that day pings, not the next day's. A close is due no
    sooner than the ping said, N days after it: the first run after that closes (the ping was
    posted some way into its run, so usually the next day's)."""
    lc = cfg.lifecycle
    ping_after, close_after = (
        timedelta(days=lc.days_until_ping),
        timedelta(days=lc.days_until_close),
    )
    party = party_of(w)
    pings = with_recorded(pings_in(thread, bot), recorded)
    # this wait's pings: since it began, and to whom it waits on (a ping to the author that
    # crossed the author's answer does not count for the wait on a maintainer that follows)
    pinged = [p for p in pings if p.at >= w.since and p.party in (None, party)]
    state = f"waiting on {w.on} ({', '.join(w.who) or 'nobody named'}) since {w.since.date()}"
    if not pinged:
        due = max([w.since + ping_after, *(p.at + ping_after for p in pings[-1:])])
        if now < due:
            return [NoOp(f"{state}: {w.reason}; re-ping on {due.date()} UTC", what="ping")], due
        if not w.who:
            return [
                NoOp(f"{state}: {w.reason}; no one to ping; left for the digest", what="ping")
            ], FOREVER
        reason = f"{state}: {w.reason}; quiet for {(now - w.since).days} days"
        return _ping(thread, cfg, now, w, need, reason)
    last = pinged[-1]
    on = last.at.date()
    if not last.shown:  # a maintainer deleted it: no second ping, nor a close it cannot show
        why = (
            f"{state}: the ping of {on} was deleted from the thread; not pinged again nor closed"
            " until the thread moves on"
        )
        return [NoOp(why, what="ping")], FOREVER
    if w.on != "author":
        why = f"{state}: pinged on {on}; waiting on a maintainer, left for the digest"
        return [NoOp(why, what="close")], FOREVER
    if not closing_enabled(cfg):
        close_at = last.at + close_after
        if now < close_at:
            return _close_due(state, on, close_at)
        why = (
            f"would close: no answer since the ping on {on}"
            " (closing is off: set lifecycle.close: true to opt in)"
        )
        return [NoOp(why, what="close")], FOREVER
    exempt = _exempt_after(thread, bot, last.at)
    if last.close_days is None or exempt:  # the author was never told, or told of a close the
        # exemption interrupted: first a ping that says so (again)
        due = last.at + ping_after
        said = f"{state}: the ping on {on} did not say the issue would close"
        if exempt:
            said = f"{state}: the issue was {exempt} after the ping on {on}, which closes nothing"
        if not _due(due, now):
            why = f"{said}; a ping that does is due {due.date()} UTC"
            return [NoOp(why, what="ping")], earliest(due)
        return _ping(thread, cfg, now, w, need, f"{said}; pinging again with the close announced")
    days = max(last.close_days, lc.days_until_close)  # never sooner than the ping announced
    close_at = last.at + timedelta(days=days)
    if now < close_at:  # no grace: "within N days" is N whole days
        return _close_due(state, on, close_at)
    quiet_for = (now - last.at).days
    reason = f"no answer from the author for {quiet_for} days after the ping on {on}"
    noted = close_notes_since(thread, bot, last.at)
    if noted:  # a close that failed after its note (a retry, the next day's sweep): no second note
        why = f"{reason}; the closing note was posted on {noted[-1].date()}"
        return [Close(why, "not_planned")], FOREVER
    author = thread.issue.author
    # a deleted account (GitHub's `ghost`) is never mentioned: the reopen is anyone's to ask
    ask = "If" if author.lower() == GHOST else f"@{author}, if"
    text = CLOSE_BODY.format(days=days, ask=ask)
    mark = f"{CLOSE_MARK}{now.date().isoformat()}"
    return [Comment(text, mark, reason), Close(reason, "not_planned")], FOREVER


def _exempt_after(thread: Thread, bot_login: str, at: datetime) -> str:
    """What exempted the issue after the ping at `at` ("locked", "in a milestone", "pinned": the
    last such event's, by anyone but the bot itself), or "". README: those issues are never
    touched; a close announced before must not come the moment the exemption ends."""
    events = [
        e
        for e in thread.events
        if e.kind in EXEMPT_EVENTS and e.actor != bot_login and parse_time(e.created_at) > at
    ]
    last = max(events, key=lambda e: parse_time(e.created_at), default=None)
    return EXEMPT_EVENTS[last.kind] if last is not None else ""


def _close_due(state: str, on: date, close_at: datetime) -> tuple[list[Action], datetime]:
    """Nothing yet: the close announced by the ping on `on` comes at the first run after
    close_at (the audit gives the minute: a run earlier that day does not close)."""
    when = close_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return [NoOp(f"{state}: pinged on {on}; close due {when} UTC", what="close")], close_at


def earliest(at: datetime) -> datetime:
    """When the ping announcing a close, due at `at`, may come: SWEEP_GRACE early at most, and
    never before `at`'s own day (UTC), the day the audit gave as "due"."""
    at = at.astimezone(UTC)
    return max(at - SWEEP_GRACE, at.replace(hour=0, minute=0, second=0, microsecond=0))


def _due(at: datetime, now: datetime) -> bool:
    """The ping announcing a close, due at `at`, is due now (see earliest)."""
    return now >= earliest(at)


def close_notes_since(thread: Thread, bot_login: str, since: datetime) -> list[datetime]:
    """When the bot posted a closing note (any lifecycle:close marker) at or after `since`."""
    return sorted(
        parse_time(c.created_at)
        for c in thread.comments
        if c.author == bot_login
        and parse_time(c.created_at) >= since
        and any(m.startswith(CLOSE_MARK) for m in markers_in(c.body))
    )


def _ping(
    thread: Thread, cfg: RepoConfig, now: datetime, w: Waiting, need: str, reason: str
) -> tuple[list[Action], datetime]:
    """The re-ping; to the author with closing on, it announces the close (text and marker).
    Never to GitHub's `ghost` (a deleted account)."""
    living = tuple(p for p in w.who if p.lower() != GHOST)
    if not living:
        why = f"{reason}; no one to ping (@{GHOST} is a deleted account); left for the digest"
        return [NoOp(why, what="ping")], FOREVER
    w = replace(w, who=living)
    close = cfg.lifecycle.days_until_close if announces_close(cfg, w) else None
    issue, on_author = thread.issue, w.on == "author"
    described = described_as(issue.title, issue.body) if on_author else None
    description = description_hash(issue.body) if on_author else None
    mark = ping_marker(now, party_of(w), close, described, description)
    close_at = now + timedelta(days=cfg.lifecycle.days_until_close)
    next_due = close_at if w.on == "author" else FOREVER  # see _ping_or_close
    return [Comment(ping_text(thread, cfg, w, need), mark, reason)], next_due


def announces_close(cfg: RepoConfig, w: Waiting) -> bool:
    """A ping to the author says the issue will close when closing is on (and only then)."""
    return w.on == "author" and closing_enabled(cfg)


def ping_text(thread: Thread, cfg: RepoConfig, w: Waiting, need: str = "") -> str:
    """The friendly re-ping: names exactly who the issue waits on and what is needed."""
    what = _what(w, need)
    days = cfg.lifecycle.days_until_ping
    if w.on == "author":
        close = announces_close(cfg, w)
        note = CLOSE_NOTE.format(days=cfg.lifecycle.days_until_close) if close else ""
        return PING_AUTHOR.format(who=w.who[0], what=what, close_note=note, days=days)
    whos = ", ".join(f"@{p}" for p in w.who)
    when = f"on {(w.said_at or w.since).date()}"  # the answer's day, not the clock's
    said, did = (w.asked_by, "asked something") if w.asked_by else (thread.issue.author, "answered")
    if w.replied_by is not None:
        said, did = w.replied_by, "replied"
    if w.linked_by is not None:
        said, did = w.linked_by, f"linked {w.linked}"
    if w.edited_after is not None:
        when = f"after the reminder of {w.edited_after.date()}"
        if w.edited_by is not None:  # GitHub said who: a comment's author, a renamed event's actor
            said, did = w.edited_by, EDITED.get(w.edited, "edited the issue")
        else:  # a description edit has no event: nobody is named (nor blamed)
            said, did = f"the issue's {w.edited or 'title or description'}", "was edited"
    return PING_TEAM.format(whos=whos, author=quiet(said), did=did, when=when, what=what, days=days)


def _what(w: Waiting, need: str) -> str:
    if need.strip():
        return f": {quiet(_first_line(need))}"
    if w.question is not None:
        link = f" ([comment]({w.question.html_url}))" if w.question.html_url else ""
        return f" to this question from {quiet(w.question.author)}{link}:\n\n> {quiet(_first_line(w.question.body))}"
    return ""


def _first_line(text: str, limit: int = 200) -> str:
    lines = [
        ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith(">")
    ]
    line = next((ln for ln in lines if "?" in ln), lines[0] if lines else "")
    return line if len(line) <= limit else line[: limit - 1] + "…"
