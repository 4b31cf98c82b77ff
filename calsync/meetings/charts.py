"""Server-rendered SVG charts for the statistics page (no JavaScript, no CDN).

Bars are drawn in a fixed viewBox and scale with the page (width 100%); every bar has a
<title> (hover text) and its number printed above it, so the chart reads without colour too.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from calsync.meetings.held import Cell

SCHEDULED = "#c9d7ea"
HELD = "#1f5fa8"


def _nice_max(value: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000):
        if value <= step * 4:
            return max(step * 4, 4)
    return value


def bars(labels: Sequence[str], cells: Sequence[Cell], *, title: str,
         chart_id: str) -> str:
    """Grouped vertical bars: 计划 (scheduled, light) beside 召开 (held, dark) per label."""
    n = max(len(labels), 1)
    left, top, bottom, group = 36, 28, 36, 48
    width = left + n * group + 10
    height = 220
    plot = height - top - bottom
    top_value = _nice_max(max([c.scheduled for c in cells] + [1]))
    out = [f'<svg id="{escape(chart_id)}" class="chart wide" role="img" '
           f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width * 2}px" '
           f'preserveAspectRatio="xMinYMin meet" '
           f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
           f"<title>{escape(title)}</title>",
           '<g font-size="10" fill="#555">']
    for k in range(5):
        value = top_value * k // 4
        y = top + plot - plot * k / 4
        out.append(f'<line x1="{left}" x2="{width - 6}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="#e5e5e5"/><text x="{left - 4}" y="{y + 3:.1f}" '
                   f'text-anchor="end">{value}</text>')
    out.append("</g>")
    for i, (label, c) in enumerate(zip(labels, cells, strict=True)):
        x = left + i * group + 6
        for j, (value, colour, word) in enumerate(((c.scheduled, SCHEDULED, "计划"),
                                                  (c.held, HELD, "召开"))):
            h = plot * value / top_value
            bx, by = x + j * 18, top + plot - h
            out.append(f'<g class="bar {"held" if j else "scheduled"}" data-label="'
                       f'{escape(label)}" data-value="{value}"><rect x="{bx}" y="{by:.1f}" '
                       f'width="16" height="{h:.1f}" fill="{colour}"><title>{escape(label)} '
                       f'{word} {value}</title></rect><text x="{bx + 8}" y="{by - 3:.1f}" '
                       f'font-size="9" text-anchor="middle" fill="#333">{value}</text></g>')
        out.append(f'<text x="{x + 17}" y="{height - bottom + 14}" font-size="11" '
                   f'text-anchor="middle" fill="#333">{escape(label)}</text>')
    out.append(f'<g font-size="11" fill="#333" transform="translate({left},{height - 8})">'
               f'<rect width="10" height="10" y="-9" fill="{SCHEDULED}"/>'
               f'<text x="14">计划</text><rect x="52" width="10" height="10" y="-9" '
               f'fill="{HELD}"/><text x="66">召开</text></g>')
    out.append("</svg>")
    return "".join(out)


def hbars(labels: Sequence[str], cells: Sequence[Cell], *, title: str, chart_id: str) -> str:
    """One line per label (a section): the 计划 bar with the 召开 bar over it, numbers after."""
    left, right, row, top = 132, 70, 34, 8
    plot = 320
    width = left + plot + right
    height = top + row * max(len(labels), 1) + 26
    top_value = max([c.scheduled for c in cells] + [1])
    out = [f'<svg id="{escape(chart_id)}" class="chart" role="img" '
           f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width * 2}px" '
           f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg" '
           f'aria-label="{escape(title)}">', f"<title>{escape(title)}</title>"]
    for i, (label, c) in enumerate(zip(labels, cells, strict=True)):
        y = top + i * row
        ws, wh = plot * c.scheduled / top_value, plot * c.held / top_value
        out.append(f'<text x="{left - 6}" y="{y + 17}" font-size="12" text-anchor="end" '
                   f'fill="#333">{escape(label)}</text>')
        out.append(f'<g class="bar scheduled" data-label="{escape(label)}" '
                   f'data-value="{c.scheduled}"><rect x="{left}" y="{y + 4}" width="{ws:.1f}" '
                   f'height="20" fill="{SCHEDULED}"><title>{escape(label)} 计划 {c.scheduled}'
                   f'</title></rect></g>')
        out.append(f'<g class="bar held" data-label="{escape(label)}" data-value="{c.held}">'
                   f'<rect x="{left}" y="{y + 8}" width="{wh:.1f}" height="12" fill="{HELD}">'
                   f'<title>{escape(label)} 召开 {c.held}</title></rect></g>')
        out.append(f'<text x="{left + ws + 4:.1f}" y="{y + 18}" font-size="11" fill="#333">'
                   f'{c.held}/{c.scheduled}</text>')
    out.append(f'<g font-size="11" fill="#333" transform="translate({left},{height - 8})">'
               f'<rect width="10" height="10" y="-9" fill="{SCHEDULED}"/>'
               f'<text x="14">计划</text><rect x="52" width="10" height="10" y="-9" '
               f'fill="{HELD}"/><text x="66">召开</text></g>')
    out.append("</svg>")
    return "".join(out)
