"""Route a recorded delivery to the job for its event."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.dupes import INDEXES
from bot.github.errors import InstallationSuspended
from bot.jobs.backfill import handle_installation_event
from bot.jobs.commands import handle_comment_event
from bot.jobs.triage import handle_issue_event
from bot.ports import NotFound, ReadOnly, Unavailable

if TYPE_CHECKING:
    from bot.jobs.runtime import Runtime
    from bot.store import Store

log = logging.getLogger(__name__)
Handler = Callable[["Runtime", dict[str, Any], dict[str, Any]], None]


def on_installation(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> None:
    inst = payload.get("installation") or {}
    account = (inst.get("account") or {}).get("login", "")
    action = payload.get("action")
    at = {**row, "installation_id": inst.get("id")}
    later = _undone_since(rt.store, at, action) if action != "deleted" else None
    if later is not None:  # handled after a later delivery that undid it: that one stands
        rt.store.audit(
            f"installation.{action}",
            "skipped",
            f"a later delivery ({later}) undid it; the installation table is left as that one set it",
            task="installation",
            delivery_id=row["id"],
            detail={"installation": inst.get("id")},
        )
        return
    if action == "deleted":
        rt.store.remove_installation(inst["id"])
    elif action in ("suspend", "unsuspend"):
        kind = (inst.get("account") or {}).get("type", "")
        rt.store.set_installation_suspended(inst["id"], action == "suspend", account, kind)
    else:
        rt.store.upsert_installation(
            inst["id"], account, (inst.get("account") or {}).get("type", "")
        )
        listed = payload.get("repositories") or []
        taken = _taken_since(rt.store, at, _full_names(listed))
        payload = {**payload, "repositories": [r for r in listed if _name(r) not in taken]}
        rt.store.add_repositories(inst["id"], payload["repositories"])
    rt.store.audit(
        f"installation.{action}",
        "done",
        "installation table updated",
        task="installation",
        delivery_id=row["id"],
        detail={"installation": inst.get("id")},
    )
    if action in ("unsuspend", "deleted"):  # what waited for it runs (and meets the uninstall)
        _release_held(rt.store, row["id"], inst["id"], f"installation.{action}")
    if action == "created":
        handle_installation_event(rt.context(), row["id"], payload)


def on_installation_repositories(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> None:
    inst = payload.get("installation") or {}
    account = (inst.get("account") or {}).get("login", "")
    at = {**row, "installation_id": inst["id"]}
    later = _undone_since(rt.store, at, "created")
    if later is not None:  # handled after the App was uninstalled: the row is not made again
        rt.store.audit(
            "installation_repositories",
            "skipped",
            f"a later delivery ({later}) uninstalled the App: the installation is not recorded"
            " again, nor its repositories",
            task="installation",
            delivery_id=row["id"],
            detail={"installation": inst["id"]},
        )
        return
    rt.store.upsert_installation(inst["id"], account)
    added = payload.get("repositories_added") or []
    taken = _taken_since(rt.store, at, _full_names(added))  # removed again since: not added
    payload = {**payload, "repositories_added": [r for r in added if _name(r) not in taken]}
    rt.store.add_repositories(inst["id"], payload["repositories_added"])
    removed = [r["full_name"] for r in payload.get("repositories_removed") or []]
    back = _added_since(rt.store, at, removed)
    rt.store.remove_repositories(n for n in removed if n not in back)
    rt.store.audit(
        "installation_repositories",
        "done",
        "repository list updated",
        task="installation",
        delivery_id=row["id"],
    )
    if payload.get("repositories_added"):
        handle_installation_event(rt.context(), row["id"], payload)


def on_installation_target(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> None:
    """The account the App is installed on renamed (a user's or organisation's login): GitHub
    sends this, and no repository.renamed for each of its repositories. Every repository of the
    installation the store keeps under the old login moves to the new one (the same account:
    who may write is kept), and the installation's account follows. Handled after a later
    rename of the account (out of order), they move to that one's login; after the App was
    uninstalled, nothing is recorded again."""
    inst = (payload.get("installation") or {}).get("id")
    login = (payload.get("account") or {}).get("login")
    changes = payload.get("changes") or {}
    # GitHub names the old login in changes.login, or for some renames only the old slug (an
    # organisation's slug is its login)
    before = (changes.get("login") or {}).get("from") or (changes.get("slug") or {}).get("from")
    if payload.get("action") != "renamed" or not isinstance(inst, int):
        ignore(rt, row, payload)
        return
    if not isinstance(login, str) or not isinstance(before, str) or not login or not before:
        ignore(rt, row, payload)
        return
    at = {**row, "installation_id": inst}
    if (later := _undone_since(rt.store, at, "created")) is not None:
        rt.store.audit(
            "installation_target.renamed",
            "skipped",
            f"a later delivery ({later}) uninstalled the App: nothing is recorded again",
            task="installation",
            delivery_id=row["id"],
            detail={"installation": inst},
        )
        return
    login = _latest_login(rt.store, at) or login
    renamed: dict[str, str] = {}
    for stored in rt.store.repositories(inst):
        old = str(stored["full_name"])
        owner, _, name = old.partition("/")
        if owner.lower() == before.lower() and f"{login}/{name}" != old:
            rt.store.rename_repository(old, f"{login}/{name}")
            INDEXES.forget(old, f"{login}/{name}")
            renamed[old] = f"{login}/{name}"
    rt.store.upsert_installation(inst, login)
    rt.store.audit(
        "installation_target.renamed",
        "done",
        f"the account {before} is now {login}: its repositories' stored state follows",
        task="installation",
        delivery_id=row["id"],
        detail={"installation": inst, "from": before, "to": login, "repositories": renamed},
    )


def _latest_login(store: Store, row: dict[str, Any]) -> str | None:
    """The account's login as the latest installation_target.renamed delivery the store recorded
    at or after this one came names it; None when there is none (or its payload was pruned)."""
    came = _came(store, row)
    if came is None:
        return None
    sql = (
        "select payload from deliveries where installation_id = ? and received_at >= ?"
        " and id <> ? and event = 'installation_target' and action = 'renamed'"
        " order by received_at desc limit 1"
    )
    found = store.db.execute(sql, [row["installation_id"], came, row["id"]]).fetchone()
    if not found or not found[0]:
        return None
    login = (json.loads(found[0]).get("account") or {}).get("login")
    return login if isinstance(login, str) and login else None


def on_repository(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> None:
    """A repository renamed, transferred, archived, unarchived or deleted on GitHub.

    Renamed or transferred: what the store keeps under the old name (issues, the classifier's
    examples, config, lifecycle state, digests) moves to the new one, so the repository keeps
    its history and its trained scope. Archived: left alone (GitHub takes no writes) until
    unarchived. Deleted: no longer one of the installation's repositories, and its issues are
    forgotten (a new repository given the name must not be offered them as duplicates), unless
    the store knows the name by another repository id: a late delete of the old repository.

    A rename or transfer handled after a delivery that came later named the repository (by its
    id) otherwise is older than the store's name, and is not made: it would take the state back
    (a spooled or retried delivery; the name learned from a later one, _today_s_name). The
    repository is not made one of the installation's again when the App lost it since
    (uninstalled, removed, deleted)."""
    repo = payload.get("repository") or {}
    new, action = repo.get("full_name"), payload.get("action")
    changes = payload.get("changes") or {}
    old = _old_name(action, repo, changes)
    outcome = "done"
    detail: dict[str, Any]
    stored_as = _known_as(rt.store, repo)
    if isinstance(new, str) and old is not None and _newer_name(rt.store, row, stored_as, old, new):
        outcome = "skipped"
        why = (
            f"a delivery that came after this one names repository id {repo.get('id')}"
            f" {stored_as}: this {action} from {old} is older; its stored state stays there"
        )
        detail = {"from": old, "to": new, "known": stored_as}
    elif isinstance(new, str) and old is not None:
        moved = rt.store.rename_repository(old, new, new_owner=action == "transferred")
        INDEXES.forget(old, new)  # other processes: bot.dupes.cache sees the rows moved
        if row.get("installation_id") and not _taken_since(rt.store, row, [new]):
            rt.store.add_repositories(row["installation_id"], [repo])
        why = f"{old} is now {new}: its stored state follows"
        detail = {"from": old, "to": new, "rows": moved}
    elif isinstance(new, str) and action in ("archived", "unarchived"):
        known = rt.store.set_archived(new, action == "archived")
        why = "read-only: left alone until unarchived" if action == "archived" else "writable again"
        detail = {"known": known}
    elif isinstance(new, str) and action == "deleted":
        now = _id_taken_by_another(rt.store, new, repo.get("id"))
        if now is not None:
            outcome = "skipped"
            why = f"a late delete of another repository: {new} is now repository id {now}; kept"
            detail = {"deleted_id": repo.get("id"), "id": now}
        else:
            rt.store.remove_repositories([new])
            why, detail = "no longer swept or digested", {"issues": _forget_issues(rt.store, new)}
    else:
        ignore(rt, row, payload)
        return
    rt.store.audit(
        f"repository.{action}",
        outcome,
        why,
        task="repository",
        delivery_id=row["id"],
        repo=new,
        detail=detail,
    )


def _known_as(store: Store, repo: dict[str, Any]) -> str | None:
    """The name the store knows a payload's repository by, by GitHub's repository id."""
    rid = repo.get("id")
    if not isinstance(rid, int) or isinstance(rid, bool):
        return None
    return store.repo_name_by_id(rid)


def _newer_name(store: Store, row: dict[str, Any], known: str | None, *names: str) -> bool:
    """Whether the store's name for the repository (`known`), other than `names` (the
    delivery's), is newer than the delivery: a delivery recorded at or after this one came named
    the repository so. False for a delivery the store did not record (nothing to compare)."""
    if known is None or known in names or _came(store, row) is None:
        return False
    return _named_since(store, row, known)


def _named_since(store: Store, row: dict[str, Any], name: str) -> bool:
    """Whether a delivery the store recorded at or after this one came names repository `name`
    (the rename's own delivery, or one the store learned the name from): then this delivery was
    sent before the repository took that name, and its own name for it is older. A delivery the
    store did not record (nothing to compare with): whether the store recorded a rename to
    `name`, as before deliveries were compared."""
    came = _came(store, row)
    if came is None:
        sql = "select 1 from repo_renames where new = ? limit 1"
        return store.db.execute(sql, [name]).fetchone() is not None
    sql = "select 1 from deliveries where repo = ? and received_at >= ? and id <> ? limit 1"
    return store.db.execute(sql, [name, came, row["id"]]).fetchone() is not None


def _id_taken_by_another(store: Store, name: str, deleted_id: Any) -> int | None:
    """The repository id the store knows `name` by when it is not `deleted_id`: a new repository
    took the name and the deletion of the old one (a retry, the recovery sweep, a spooled
    delivery) is handled after it, so the name's rows are the new repository's. None when the
    store has no id for the name (kept from before ids were stored) or has the deleted one."""
    row = store.db.execute("select id from repositories where full_name = ?", [name]).fetchone()
    if row is None or row[0] is None or row[0] == deleted_id:
        return None
    return int(row[0])


def _forget_issues(store: Store, name: str) -> int:
    """A deleted repository's stored issues, dropped; how many. They are kept by name only, so a
    new repository given the name (another repository id) would be offered them as duplicate
    candidates: numbers it does not have, or other issues. This process's cached duplicate
    index for the name goes too; other processes' refit when they see the rows gone
    (bot.dupes.cache). Not for a repository removed from the installation: it still exists.
    Its triage examples keep their labels but lose their issue numbers: the new repository's
    issue 1 is not the old one's, and must not find (and be outranked by) its example."""
    with store.db.atomic():
        forgotten = int(store.db.execute("delete from issues where repo = ?", [name]).rowcount)
        store.db.execute("update llm_examples set issue = null where scope = ?", [name])
    INDEXES.forget(name)
    return forgotten


def _old_name(action: Any, repo: dict[str, Any], changes: dict[str, Any]) -> str | None:
    """The repository's name before a rename or transfer, from the payload's `changes`."""
    owner = (repo.get("owner") or {}).get("login")
    name = repo.get("name")
    if action == "renamed":
        before = ((changes.get("repository") or {}).get("name") or {}).get("from")
        if isinstance(owner, str) and isinstance(before, str):
            return f"{owner}/{before}"
    if action == "transferred":
        was = (changes.get("owner") or {}).get("from") or {}
        login = (was.get("organization") or was.get("user") or {}).get("login")
        if isinstance(login, str) and isinstance(name, str):
            return f"{login}/{name}"
    return None


def on_issues(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> None:
    """Issues: triage on opened / reopened / edited, learning from maintainers' labels.

    The repository is one of the installation's (an installation event the store missed is
    made up for) once the handler got through, unless the App lost it after this delivery came:
    a delivery queued or retried across the removal must not put it back on the dashboard and
    in the digests."""
    handle_issue_event(rt.context(), row["id"], payload)
    if row.get("installation_id") and row.get("repo") and not _lost_since(rt.store, row):
        rt.store.add_repositories(
            row["installation_id"], [payload.get("repository") or {"full_name": row["repo"]}]
        )


def _lost_since(store: Store, row: dict[str, Any]) -> bool:
    """Whether the store recorded, at or after this delivery came, a delivery that took its
    repository from the App: the App uninstalled, the repository removed from the installation
    or deleted."""
    lost = any(_took(event, repo, raw, row["repo"]) for event, repo, raw in _removals(store, row))
    if lost:
        log.info("delivery %s: %s left the App since; not registered again", row["id"], row["repo"])
    return lost


def _removals(store: Store, row: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    """(event, repo, payload) of the deliveries the store recorded at or after this one came
    that took repositories from the App (removed, uninstalled, deleted); none when this one is
    not a recorded delivery (nothing to compare with)."""
    came = _came(store, row)
    if came is None:
        return []
    sql = (
        "select event, repo, payload from deliveries"
        " where installation_id = ? and received_at >= ? and id <> ?"
        " and event in ('installation', 'installation_repositories', 'repository')"
        " and action in ('deleted', 'removed')"
    )
    rows = store.db.execute(sql, [row["installation_id"], came, row["id"]]).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def _came(store: Store, row: dict[str, Any]) -> float | None:
    """When a delivery came (its received_at), or None when the store did not record it."""
    came = row.get("received_at")
    if came is None:
        known = store.delivery(row["id"])
        came = known["received_at"] if known else None
    return came


def _added_since(store: Store, row: dict[str, Any], names: list[str]) -> set[str]:
    """Of the repositories a removal names, those that a delivery the store recorded at or after
    the removal came gave back to the App (added to the installation, or the App installed
    with it): handled after it, the older removal must not take them. Spooled and live
    deliveries are published apart and workers take them in any order."""
    came = _came(store, row) if names else None
    if came is None:
        return set()
    sql = (
        "select id, payload from deliveries"
        " where installation_id = ? and received_at >= ? and id <> ?"
        " and ((event = 'installation_repositories' and action = 'added')"
        " or (event = 'installation' and action = 'created'))"
    )
    back: set[str] = set()
    for did, raw in store.db.execute(sql, [row["installation_id"], came, row["id"]]).fetchall():
        if not raw:  # the payload pruned (after retention_days): taken to have named them
            given = set(names)
        else:
            body = json.loads(raw)
            listed = [
                r
                for r in body.get("repositories_added") or body.get("repositories") or []
                if isinstance(r, dict)
            ]
            given = {n for n in names if any(r.get("full_name") == n for r in listed)}
        if given:
            log.info("delivery %s: %s added again since (%s); not removed", row["id"], given, did)
        back |= given
    return back


def _name(repo: Any) -> str | None:
    return repo.get("full_name") if isinstance(repo, dict) else None


def _full_names(repos: list[Any]) -> list[str]:
    return [n for n in map(_name, repos) if n]


def _taken_since(store: Store, row: dict[str, Any], names: list[str]) -> set[str]:
    """Of the repositories an addition (or an install) names, those that a delivery the store
    recorded at or after it came took from the App again (removed from the installation, the
    App uninstalled, the repository deleted): handled after it, the older addition must not
    bring them back (nothing else would take them off the sweeps, digests and dashboard)."""
    later = _removals(store, row) if names else []
    taken = {n for n in names for event, repo, raw in later if _took(event, repo, raw, n)}
    if taken:
        log.info("delivery %s: %s taken from the App since; not added", row["id"], taken)
    return taken


# what undoes an installation delivery's action, when the store recorded it at or after it came
_UNDONE_BY = {
    "created": ("deleted",),
    "suspend": ("unsuspend", "deleted"),
    "unsuspend": ("suspend", "deleted"),
}


def _undone_since(store: Store, row: dict[str, Any], action: str | None) -> str | None:
    """The id of a delivery recorded at or after this installation delivery came that undid its
    action (the App uninstalled after it was installed, unsuspended after it was suspended),
    else None: handled out of order, the older one must not set the table back."""
    undone = _UNDONE_BY.get(action or "", ("deleted",))  # new_permissions_accepted: a delete
    came = _came(store, row)
    if came is None or row.get("installation_id") is None:
        return None
    marks = ", ".join("?" for _ in undone)
    sql = (
        "select id from deliveries where installation_id = ? and received_at >= ? and id <> ?"
        f" and event = 'installation' and action in ({marks}) order by received_at limit 1"
    )
    found = store.db.execute(sql, [row["installation_id"], came, row["id"], *undone]).fetchall()
    return str(found[0][0]) if found else None


def _took(event: str, repo: str | None, raw: str | None, name: str) -> bool:
    """Whether a removal or deletion the store recorded took repository `name` from the App."""
    if event == "installation":
        return True
    if event == "repository":
        return repo == name
    if not raw:  # the payload pruned (after retention_days): taken to have named it
        return True
    removed = json.loads(raw).get("repositories_removed") or []
    return any(r.get("full_name") == name for r in removed)


def on_issue_comment(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> None:
    """Comments: `/smolbot …` commands from people with write access."""
    handle_comment_event(rt.context(), row["id"], payload)


def ignore(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> None:
    rt.store.audit(
        row["event"],
        "skipped",
        "event not acted on",
        task=row["event"],
        delivery_id=row["id"],
        repo=row.get("repo"),
        number=row.get("number"),
    )


HANDLERS: dict[str, Handler] = {
    "installation": on_installation,
    "installation_repositories": on_installation_repositories,
    "issues": on_issues,
    "issue_comment": on_issue_comment,
    "repository": on_repository,
    # bot.webhook.intake.HANDLED_EVENTS must list it for its deliveries to reach this handler
    "installation_target": on_installation_target,
}


def _today_s_name(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """The repository's name when the payload's and the store's differ (the store's found by
    GitHub's repository id, so a new repository given an old name is not taken for it): the
    newer one, so the repository's state is not split over two names.

    A delivery sent before a rename the store knows (a delivery recorded at or after it came
    names the store's name: the rename's own, or one the name was learned from; a spooled or
    retried one) is handled under the store's name. Otherwise the payload's name is the newer:
    the store missed the rename (its event lost; an account renamed, for which GitHub sends no
    repository event) or has not handled it yet, and the stored state moves to the payload's
    name, as a repository.renamed event would have moved it."""
    repo = payload.get("repository")
    if row["event"] == "repository" or not isinstance(repo, dict):
        return row
    name = repo.get("full_name")
    now = _known_as(rt.store, repo)
    if now is None or not isinstance(name, str) or now == name:
        return row
    # the payload's name the store knows as another repository's (by its id): too tangled to
    # merge them; handled under the store's name, as before names were compared
    other = _id_taken_by_another(rt.store, name, repo.get("id"))
    if other is not None or _named_since(rt.store, row, now) or _renamed_from(rt.store, name):
        payload["repository"] = {**repo, "full_name": now}
        log.info("delivery %s names %s, renamed since to %s", row["id"], name, now)
        return {**row, "repo": now}
    _learn_name(rt, row, now, name)
    return row


def _renamed_from(store: Store, name: str) -> bool:
    """Whether the store moved a repository away from `name` (a rename or an account's, handled
    or learned): a payload naming it was sent before that, whenever it is handled (a retry, the
    spool, a held delivery, one redelivered from GitHub's page, recorded anew)."""
    sql = "select 1 from repo_renames where old = ? limit 1"
    return store.db.execute(sql, [name]).fetchone() is not None


def _learn_name(rt: Runtime, row: dict[str, Any], old: str, new: str) -> None:
    """The store's name `old` for a delivery's repository is older than the payload's `new`:
    what the store keeps moves to `new` (Store.rename_repository). Another owner in the same
    installation is its account renamed, not a transfer: who may write is kept."""
    same = row.get("installation_id") == rt.store.installation_for_repo(old)
    transferred = old.split("/")[0].lower() != new.split("/")[0].lower() and not same
    moved = rt.store.rename_repository(old, new, new_owner=transferred)
    INDEXES.forget(old, new)  # other processes: bot.dupes.cache sees the rows moved
    log.info("delivery %s names %s, which the store knew as %s: renamed", row["id"], new, old)
    rt.store.audit(
        "repository.renamed",
        "done",
        f"{old} is now {new}, as this delivery names it (the rename's own event was missed, or"
        " is not handled yet): its stored state follows",
        task="repository",
        delivery_id=row["id"],
        repo=new,
        detail={"from": old, "to": new, "rows": moved, "learned_from": row["event"]},
    )


def _release_held(store: Store, delivery_id: str, inst: int, event: str) -> None:
    """The deliveries held while the installation was suspended (hold_suspended) run again."""
    released = store.release_held(inst, f"{event}: run again")
    if released:
        store.audit(
            "deliver",
            "queued",
            f"{len(released)} deliveries held while the installation was suspended run again"
            " (the recovery sweep queues them)",
            task="installation",
            delivery_id=delivery_id,
            detail={"installation": inst, "deliveries": released},
        )


def hold_suspended(
    store: Store, row: dict[str, Any], err: InstallationSuspended, since: float
) -> bool:
    """A delivery whose installation is suspended, claimed by a run that started at `since`:
    held (status `held`, audited as skipped, no dead letter) until installation.unsuspend
    releases it. GitHub's refusal (not the store's record) marks the installation suspended, as
    its suspend event (missed, or not handled yet) would have. Unsuspended meanwhile (its
    release may have come before this hold): released at once. False when there is no
    installation to wait for."""
    inst = row.get("installation_id")
    if not isinstance(inst, int):
        return False
    store.suspend_unless_undone(inst, since)
    if not store.hold_delivery(row["id"], f"held: {err}"):  # another worker has it now
        return True
    event = ".".join(filter(None, (row.get("event"), row.get("action"))))
    store.audit(
        "deliver",
        "skipped",
        f"installation suspended: held until it is unsuspended ({err})",
        task="smolbot.handle_delivery",
        delivery_id=row["id"],
        repo=row.get("repo"),
        number=row.get("number"),
        detail={"installation": inst, "event": event},
    )
    if not store.installation_suspended(inst):
        _release_held(store, row["id"], inst, "installation unsuspended meanwhile")
    return True


# A 404 on a run's first try may be GitHub not showing a new issue yet; the run after it (the
# retry's backoff later) takes it as gone: deleted, or the repository out of the App's reach.
NOT_FOUND_RUNS = 2


def out_of_reach(
    store: Store,
    err: NotFound | ReadOnly,
    attempts: int,
    action: str,
    *,
    task: str,
    delivery_id: str | None = None,
    repo: str | None = None,
    number: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """What a delivery or a job run does when GitHub answers that its issue or repository is out
    of reach. A 404 on the first try is tried once more (Unavailable); then, as at once for an
    archived repository's refusal, the run is audited as skipped and ends: no dead letter, as no
    retry (nor `smolbot retry`) would change it."""
    if isinstance(err, NotFound):
        if attempts < NOT_FOUND_RUNS:
            raise Unavailable(
                f"{err}; trying once more in case GitHub did not show it yet"
            ) from err
        why = (
            f"{err}: the issue was deleted, or the repository is no longer visible to the App;"
            " nothing to do"
        )
    else:  # archived since the event: nothing can be written there
        if repo:
            store.set_archived(repo, True)
        why = f"{err}: nothing is written to it until it is unarchived"
    store.audit(
        action,
        "skipped",
        why,
        task=task,
        delivery_id=delivery_id,
        repo=repo,
        number=number,
        detail=detail,
    )


def dispatch(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> None:
    """Route a delivery to its handler. GitHub's refusal of a suspended installation's token
    raises InstallationSuspended (the worker holds the delivery until it is unsuspended); the
    store's flag alone does not hold it: an unsuspend event lost would hold every delivery after
    it for good, and GitHub sends none for an installation while it is suspended."""
    row = _today_s_name(rt, row, payload)
    try:
        HANDLERS.get(row["event"], ignore)(rt, row, payload)
    except (NotFound, ReadOnly) as err:
        out_of_reach(
            rt.store,
            err,
            row.get("attempts") or 0,
            row["event"],
            task=row["event"],
            delivery_id=row["id"],
            repo=row.get("repo"),
            number=row.get("number"),
        )
