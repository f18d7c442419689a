"""Server-rendered SVG bar charts for the Kennzahlen: a title, axis labels and the value on every bar.

Horizontal bars, because the category names are long. Every chart is an image with a title and a description
(`role="img"`); the page puts a data table after it. Colours come as presentation attributes (`fill=`), which
the CSP allows where inline `style=` is forbidden; each colour carries white text at a contrast above 7:1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

from .models import CATEGORIES
from .stats import PHASES, Figures

WIDTH = 760
LABEL_WIDTH = 250  # at most: room for "Angebotslücke – Kinderbetreuung" at 13 px
RIGHT = 60  # room for the total after the longest bar
BAR = 22
GAP = 12
CHAR = 7.2  # average advance of a 12–13 px sans-serif glyph, for fitting labels
INK, GRID, WHITE = "#1b1b1b", "#c9ced4", "#ffffff"
PALETTE = ("#1f4e79", "#8a5a00", "#5b2a86", "#0b5d3b", "#595959")


@dataclass
class Series:
    label: str
    values: list[float]
    fill: str


def number(value: float) -> str:
    """German number: 12 or 12,5."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}".replace(".", ",")


def _ticks(top: float) -> list[float]:
    """Round axis ticks from 0 past the largest value: steps of 1, 2 or 5 times a power of ten, five or so."""
    if top <= 0:
        return [0, 1]
    raw = top / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if raw <= m * magnitude)
    step = max(step, 1)
    count = math.ceil(top / step)
    return [i * step for i in range(count + 1)]


def _text(x, y, content, *, anchor="start", size=13, weight=None, fill=INK, extra="") -> str:
    bold = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"{bold} fill="{fill}"{extra}>'
        f"{escape(content)}</text>"
    )


def _legend(series: list[Series], top: float) -> tuple[list[str], float]:
    """Swatches with labels, wrapped into rows; returns the parts and the height used."""
    parts, x, y = [], 0.0, top
    for s in series:
        width = 18 + 6 + len(s.label) * CHAR + 20
        if x and x + width > WIDTH:
            x, y = 0.0, y + 22
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="16" height="16" fill="{s.fill}"/>')
        parts.append(_text(x + 22, y + 13, s.label))
        x += width
    return parts, (y - top) + 26


def bar_chart(
    chart_id: str,
    *,
    title: str,
    summary: str,
    categories: list[str],
    series: list[Series],
    x_label: str,
    y_label: str,
    stacked: bool = False,
) -> Markup:
    """A horizontal bar chart, stacked or grouped, as inline SVG with its title and a text description."""
    rows = len(categories)
    per_row = BAR if stacked or len(series) == 1 else len(series) * (BAR - 4) + (len(series) - 1) * 2
    sums = [sum(s.values[i] for s in series) for i in range(rows)] if stacked else []
    top_value = max(sums or [v for s in series for v in s.values] or [0])
    ticks = _ticks(top_value)
    plot_left = min(LABEL_WIDTH, max(90, round(max(map(len, categories), default=0) * CHAR) + 40))
    plot_width = WIDTH - plot_left - RIGHT

    def x_of(value: float) -> float:
        return plot_left + plot_width * value / ticks[-1]

    parts = [_text(0, 20, title, size=16, weight="700")]
    y = 34.0
    if len(series) > 1:
        legend, used = _legend(series, y)
        parts += legend
        y += used
    plot_top = y + 6
    plot_height = rows * (per_row + GAP)
    for tick in ticks:
        x = x_of(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{plot_top:.1f}" x2="{x:.1f}" y2="{plot_top + plot_height:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(_text(x, plot_top + plot_height + 16, number(tick), anchor="middle", size=12))
    row_y = plot_top + GAP / 2
    for i, category in enumerate(categories):
        parts.append(_text(plot_left - 8, row_y + per_row / 2 + 4.5, category, anchor="end"))
        if stacked:
            parts += _stacked_row(series, i, row_y, x_of, sums[i])
        else:
            parts += _grouped_row(series, i, row_y, x_of)
        row_y += per_row + GAP
    axis_y = plot_top + plot_height
    parts.append(
        f'<line x1="{plot_left}" y1="{axis_y:.1f}" x2="{plot_left + plot_width}" y2="{axis_y:.1f}" '
        f'stroke="{INK}" stroke-width="1.5"/>'
    )
    parts.append(
        f'<line x1="{plot_left}" y1="{plot_top:.1f}" x2="{plot_left}" y2="{axis_y:.1f}" '
        f'stroke="{INK}" stroke-width="1.5"/>'
    )
    parts.append(_text(plot_left + plot_width / 2, axis_y + 36, x_label, anchor="middle", weight="600"))
    middle = plot_top + plot_height / 2
    parts.append(
        _text(14, middle, y_label, anchor="middle", weight="600", extra=f' transform="rotate(-90 14 {middle:.1f})"')
    )
    height = axis_y + 48
    description = summary + " " + _values_text(categories, series, stacked)
    # Every text went through escape() and every number through a format spec; colours are our constants.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" focusable="false" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'width="{WIDTH}" height="{height:.0f}" font-family="sans-serif">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>' + "".join(parts) + "</svg>"
    )


def _fits(text: str, width: float) -> bool:
    return width >= len(text) * CHAR + 8


def _stacked_row(series: list[Series], i: int, y: float, x_of, total: float) -> list[str]:
    parts, start = [], 0.0
    for s in series:
        value = s.values[i]
        if not value:
            continue
        x0, x1 = x_of(start), x_of(start + value)
        parts.append(
            f'<rect x="{x0:.1f}" y="{y:.1f}" width="{x1 - x0:.1f}" height="{BAR}" fill="{s.fill}" '
            f'stroke="{WHITE}" stroke-width="1"/>'
        )
        label = number(value)
        if _fits(label, x1 - x0):
            parts.append(
                _text((x0 + x1) / 2, y + BAR / 2 + 4.5, label, anchor="middle", size=12, weight="700", fill=WHITE)
            )
        start += value
    parts.append(_text(x_of(total) + 6, y + BAR / 2 + 4.5, number(total), weight="700"))
    return parts


def _grouped_row(series: list[Series], i: int, y: float, x_of) -> list[str]:
    parts, height = [], BAR if len(series) == 1 else BAR - 4
    for s in series:
        value = s.values[i]
        x0, x1 = x_of(0), x_of(value)
        if value:
            parts.append(f'<rect x="{x0:.1f}" y="{y:.1f}" width="{x1 - x0:.1f}" height="{height}" fill="{s.fill}"/>')
        label = number(value)
        if value and _fits(label, x1 - x0):
            parts.append(_text(x1 - 6, y + height / 2 + 4.5, label, anchor="end", size=12, weight="700", fill=WHITE))
        else:
            parts.append(_text(x1 + 6, y + height / 2 + 4.5, label, size=12, weight="700"))
        y += height + 2
    return parts


def _values_text(categories: list[str], series: list[Series], stacked: bool) -> str:
    """The figures in words, for a screen reader that reads the description."""
    if len(series) == 1:
        return "; ".join(f"{c}: {number(series[0].values[i])}" for i, c in enumerate(categories)) + "."
    out = []
    for i, category in enumerate(categories):
        values = [(s.label, s.values[i]) for s in series]
        if stacked:
            parts = ", ".join(f"{label} {number(v)}" for label, v in values if v)
            total = number(sum(v for _label, v in values))
            out.append(f"{category}: {total} ({parts})" if parts else f"{category}: {total}")
        else:
            out.append(f"{category}: " + ", ".join(f"{label} {number(v)}" for label, v in values))
    return "; ".join(out) + "."


# -- the dashboard's charts -----------------------------------------------------------------------------------


def dashboard(fig: Figures) -> dict[str, Markup]:
    """The four charts of the Kennzahlen page, from the figures."""
    categories = list(CATEGORIES)
    labels = [CATEGORIES[c] for c in categories]
    phases = [
        Series(label, [fig.phase_counts(c)[n] for c in categories], PALETTE[n])
        for n, (_key, label, _members) in enumerate(PHASES)
    ]
    impl = fig.implementations
    return {
        "states": bar_chart(
            "chart-states",
            title="Einträge nach Kategorie und Bearbeitungsstand",
            summary="Balkendiagramm, je Kategorie ein Balken, gestapelt nach Bearbeitungsstand; "
            "am Ende jedes Balkens die Summe. Die Tabelle darunter nennt jeden Status einzeln.",
            categories=labels,
            series=phases,
            x_label="Anzahl der Einträge",
            y_label="Kategorie",
            stacked=True,
        ),
        "ages": bar_chart(
            "chart-ages",
            title="Alter der offenen Einträge",
            summary="Balkendiagramm: offene Einträge nach Tagen seit der Meldung.",
            categories=[label for label, _n in fig.ages],
            series=[Series("offene Einträge", [n for _label, n in fig.ages], PALETTE[0])],
            x_label="Anzahl der offenen Einträge",
            y_label="Alter",
        ),
        "cases": bar_chart(
            "chart-cases",
            title="Betroffene Fälle je Kategorie",
            summary="Balkendiagramm: Summe der betroffenen Fälle je Kategorie, alle Einträge.",
            categories=labels,
            series=[Series("betroffene Fälle", [fig.cases_by_category.get(c, 0) for c in categories], PALETTE[3])],
            x_label="Anzahl der betroffenen Fälle",
            y_label="Kategorie",
        ),
        "implementations": bar_chart(
            "chart-implementations",
            title="Offene Umsetzungen je Stelle",
            summary="Balkendiagramm, je Stelle zwei Balken: offene Umsetzungen und davon überfällige.",
            categories=[a.code for a in impl] or ["keine"],
            series=[
                Series("offen", [a.open for a in impl] or [0], PALETTE[0]),
                Series("davon überfällig", [a.overdue for a in impl] or [0], "#a4161a"),
            ],
            x_label="Anzahl der Umsetzungen",
            y_label="Stelle",
        ),
    }
