"""The escalation rule, table-driven (pure)."""

from __future__ import annotations

import pytest

from bot.core.escalation import Route, Situation, route


@pytest.mark.parametrize(
    ("conf", "large", "budget", "allow", "local", "expected"),
    [
        (0.9, True, 10, True, False, Route.ACCEPT),
        (0.6, False, 0, True, False, Route.ACCEPT),  # exactly at the threshold
        (0.5, True, 10, True, False, Route.LARGE),
        (0.5, True, 0, True, False, Route.CAUTIOUS),  # budget spent
        (0.5, False, 10, True, False, Route.CAUTIOUS),  # no large model
        (0.5, True, 10, False, False, Route.CAUTIOUS),  # caller forbids escalation
        (None, True, 10, True, True, Route.LOCAL),  # cold start: try the local model first
        (None, True, 10, True, False, Route.LARGE),
        (None, False, 0, True, False, Route.CAUTIOUS),
        (0.1, True, 10, True, True, Route.LARGE),  # local is only for "no answer at all"
    ],
)
def test_route(
    conf: float | None, large: bool, budget: int, allow: bool, local: bool, expected: Route
) -> None:
    s = Situation(conf, 0.6, large, budget, allow, local)
    assert route(s) is expected
