"""Charts drawn on the server as small SVG documents, with every label escaped.

The charts go inline into the print template; weasyprint draws them as
vectors and reads each chart's <title> as its alternative text. Nothing here is
fetched or scripted, and text from the data only ever reaches the SVG through
markupsafe.escape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

INK, MUTED, GRID, LINE, BAR = "#0b0c0c", "#505a5f", "#b1b4b6", "#1d70b8", "#1d70b8"


@dataclass(frozen=True)
class Guide:
    """A labelled horizontal line across a chart, e.g. the lower bound of a band."""

    value: float
    label: str


def _text(x: float, y: float, label: object, anchor: str = "start", size: float = 8) -> str:
    """One escaped SVG text element."""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{MUTED}" '
        f'text-anchor="{anchor}">{escape(label)}</text>'
    )


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    """Wrap chart parts in an <svg> whose <title> is its alternative text."""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img"><title>{escape(title)}</title>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704  # nosec B704: every part is escaped above


@dataclass(frozen=True)
class _Plot:
    """The plotting area of a time chart and its scales."""

    left: float
    top: float
    width: float
    height: float
    start: date
    span_days: int
    y_max: float

    def x(self, day: date) -> float:
        """The horizontal position of a day."""
        return self.left + self.width * (day - self.start).days / self.span_days

    def y(self, value: float) -> float:
        """The vertical position of a value, clamped to the plot."""
        return self.top + self.height * (1 - max(0.0, min(value, self.y_max)) / self.y_max)


def _axes(plot: _Plot, guides: Sequence[Guide], end: date, bottom: float) -> list[str]:
    """The frame, the labelled dashed guides and a labelled tick at each new year."""
    right, base = plot.left + plot.width, plot.top + plot.height
    parts = [
        f'<rect x="{plot.left}" y="{plot.top}" width="{plot.width}" height="{plot.height}" '
        f'fill="none" stroke="{GRID}" stroke-width="0.5"/>'
    ]
    for guide in guides:
        gy = plot.y(guide.value)
        parts.append(
            f'<line x1="{plot.left}" x2="{right}" y1="{gy:.1f}" y2="{gy:.1f}" '
            f'stroke="{GRID}" stroke-width="0.5" stroke-dasharray="3 2"/>'
        )
        parts.append(_text(plot.left - 4, gy + 3, guide.label, "end", 7))
    for year in range(plot.start.year + 1, end.year + 1):
        tx = plot.x(date(year, 1, 1))
        parts.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{base}" y2="{base + 4}" '
            f'stroke="{MUTED}" stroke-width="0.5"/>'
        )
        parts.append(_text(tx, bottom, year, "middle"))
    return parts


def line_chart(
    points: Sequence[tuple[date, float]],
    title: str,
    y_max: float,
    guides: Sequence[Guide] = (),
    width: int = 640,
    height: int = 220,
) -> Markup:
    """A time series as a line over labelled guides, with a tick for each new year."""
    if not points:
        return _svg(width, height, title, [_text(40, 20, "No data")])
    start, end = points[0][0], points[-1][0]
    plot = _Plot(40, 8, width - 50, height - 30, start, max((end - start).days, 1), y_max)
    scale = (Guide(0, "0"), *guides, Guide(y_max, f"{y_max:g}"))
    body = _axes(plot, scale, end, height - 6)
    path = " ".join(f"{plot.x(d):.1f},{plot.y(v):.1f}" for d, v in points)
    body.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="1.6"/>')
    day, value = points[-1]
    body.append(f'<circle cx="{plot.x(day):.1f}" cy="{plot.y(value):.1f}" r="2.5" fill="{INK}"/>')
    return _svg(width, height, title, body)


def bar_chart(
    items: Sequence[tuple[str, float]], title: str, width: int = 640, bar_height: int = 14
) -> Markup:
    """Horizontal bars, one per labelled value, longest scaled to the full width."""
    label_w, value_w, gap = 190, 60, 5
    height = max(len(items), 1) * (bar_height + gap) + gap
    if not items:
        return _svg(width, 24, title, [_text(0, 14, "No data")])
    peak = max(value for _label, value in items) or 1
    body = []
    for row, (label, value) in enumerate(items):
        top = gap + row * (bar_height + gap)
        length = (width - label_w - value_w) * value / peak
        shown = label if len(label) <= 34 else label[:33] + "…"
        body.append(_text(label_w - 6, top + bar_height - 3, shown, "end"))
        body.append(
            f'<rect x="{label_w}" y="{top}" width="{max(length, 0.5):.1f}" '
            f'height="{bar_height}" fill="{BAR}"/>'
        )
        body.append(_text(label_w + length + 4, top + bar_height - 3, f"{value:,.0f}"))
    return _svg(width, height, title, body)
