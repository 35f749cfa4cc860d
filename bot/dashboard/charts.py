"""Small inline SVG line charts, rendered on the server (no JavaScript, no build step)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

WIDTH, HEIGHT, PAD = 360, 140, 28


def line_chart(
    points: list[tuple[str, float | None]],
    title: str,
    unit: str = "",
    ceiling: float | None = None,
) -> str:
    """An SVG line chart of (label, value) points in order, evenly spaced; a None value is a gap
    in the line (no data that day). No value at all: an empty frame says "no data yet"."""
    head = (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f'<title>{escape(title)}</title><rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" '
        'fill="#ffffff" stroke="#d0d7de"/>'
        f'<text x="8" y="16" font-size="12" fill="#24292f">{escape(title)}</text>'
    )
    known = [
        (x, label, v)
        for x, (label, v) in zip(_xs(len(points)), points, strict=True)
        if v is not None
    ]
    if not known:
        return (
            head
            + f'<text x="{WIDTH // 2 - 30}" y="{HEIGHT // 2}" font-size="12">no data yet</text></svg>'
        )
    top = ceiling or max(v for _, _, v in known) or 1.0

    def y(v: float) -> float:
        return HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD)

    lines = "".join(
        f'<polyline fill="none" stroke="#0969da" stroke-width="2" points="{path}"/>'
        for path in _runs(points, y)
    )
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y(v):.1f}" r="3" fill="#0969da"><title>{escape(label)}: '
        f"{v:g}{escape(unit)}</title></circle>"
        for x, label, v in known
    )
    axis = (
        f'<text x="8" y="{HEIGHT - 8}" font-size="10" fill="#57606a">{escape(points[0][0])}</text>'
        f'<text x="{WIDTH - 80}" y="{HEIGHT - 8}" font-size="10" fill="#57606a">'
        f"{escape(points[-1][0])}</text>"
        f'<text x="{WIDTH - 80}" y="16" font-size="10" fill="#57606a">max {top:g}{escape(unit)}</text>'
    )
    return head + lines + dots + axis + "</svg>"


def _runs(points: list[tuple[str, float | None]], y: Callable[[float], float]) -> list[str]:
    """The polyline paths of each run of consecutive known values (a None ends a run)."""
    runs: list[list[str]] = [[]]
    for x, (_, v) in zip(_xs(len(points)), points, strict=True):
        if v is None:
            runs.append([])
        else:
            runs[-1].append(f"{x:.1f},{y(v):.1f}")
    return [" ".join(run) for run in runs if run]


def _xs(n: int) -> list[float]:
    if n == 1:
        return [WIDTH / 2]
    step = (WIDTH - 2 * PAD) / (n - 1)
    return [PAD + i * step for i in range(n)]
