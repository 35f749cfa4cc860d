"""The recorded config error is swapped only where it still holds what the swapping worker read,
NULL (no error) included, on both store backends: of the workers that read the same broken or
fixed file at once, one reports or closes, and a failed one gives its claim back."""

from __future__ import annotations

from bot.jobs.repo_config import _claim_report, _swap_error
from bot.store import Store

REPO = "octo/app"


def _error(store: Store, repo: str = REPO) -> object:
    rows = list(store.db.query("select error from repo_configs where repo = ?", [repo]))
    return rows[0]["error"] if rows else "no row"


def test_a_claimed_report_is_claimed_once_and_given_back_to_what_it_was(any_store: Store) -> None:
    assert _claim_report(any_store, REPO, "bad key 'x'")
    assert not _claim_report(any_store, REPO, "bad key 'x'")  # the other worker keeps quiet
    assert _swap_error(any_store, REPO, "bad key 'x'", None)  # its report failed: given back
    assert _error(any_store) is None
    assert _claim_report(any_store, REPO, "bad key 'x'")  # the next delivery reports it


def test_a_resolved_file_is_closed_by_one_worker_and_a_failed_close_reclaims(
    any_store: Store,
) -> None:
    _claim_report(any_store, REPO, "bad key 'x'")
    _claim_report(any_store, "octo/other", "bad key 'x'")
    assert _swap_error(any_store, REPO, "bad key 'x'", None)
    assert not _swap_error(any_store, REPO, "bad key 'x'", None)  # already claimed
    assert _error(any_store, "octo/other") == "bad key 'x'"  # another repository untouched
    assert _swap_error(any_store, REPO, None, "bad key 'x'")  # the close failed: back
    assert _error(any_store) == "bad key 'x'"


def test_a_swap_from_an_error_no_longer_recorded_changes_nothing(any_store: Store) -> None:
    _claim_report(any_store, REPO, "bad key 'y'")  # another worker recorded a newer error
    assert not _swap_error(any_store, REPO, "bad key 'x'", None)
    assert not _swap_error(any_store, REPO, None, "bad key 'x'")
    assert _error(any_store) == "bad key 'y'"
