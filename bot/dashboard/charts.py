"""Small inline SVG line charts, rendered on the server (no JavaScript, no build step)."""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT, PAD = 360, 140, 28


def line_chart(
    points: list[tuple[str, float]], title: str, unit: str = "", ceiling: float | None = None
) -> str:
    """An SVG line chart of (label, value) points in order; an empty frame says "no data yet"."""
    head = (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f'<title>{escape(title)}</title><rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" '
        'fill="#ffffff" stroke="#d0d7de"/>'
        f'<text x="8" y="16" font-size="12" fill="#24292f">{escape(title)}</text>'
    )
    if not points:
        return (
            head
            + f'<text x="{WIDTH // 2 - 30}" y="{HEIGHT // 2}" font-size="12">no data yet</text></svg>'
        )
    top = ceiling or max(v for _, v in points) or 1.0
    xs = _xs(len(points))
    ys = [HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD) for _, v in points]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#0969da"><title>{escape(label)}: '
        f"{value:g}{escape(unit)}</title></circle>"
        for x, y, (label, value) in zip(xs, ys, points, strict=True)
    )
    axis = (
        f'<text x="8" y="{HEIGHT - 8}" font-size="10" fill="#57606a">{escape(points[0][0])}</text>'
        f'<text x="{WIDTH - 80}" y="{HEIGHT - 8}" font-size="10" fill="#57606a">'
        f"{escape(points[-1][0])}</text>"
        f'<text x="{WIDTH - 80}" y="16" font-size="10" fill="#57606a">max {top:g}{escape(unit)}</text>'
    )
    line = f'<polyline fill="none" stroke="#0969da" stroke-width="2" points="{path}"/>'
    return head + line + dots + axis + "</svg>"


def _xs(n: int) -> list[float]:
    if n == 1:
        return [WIDTH / 2]
    step = (WIDTH - 2 * PAD) / (n - 1)
    return [PAD + i * step for i in range(n)]
