"""SVG bar charts: their geometry is computed here, ``templates/_charts.html`` draws any of them.

Each page's figures become a ``Chart`` (bars and text placed in its viewBox) through one of the
builders below, which templates call with the figures their view gave them; the one macro
``chart(c)`` draws every chart of the portal the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask import Flask
from flask_babel import format_decimal
from flask_babel import gettext as _

from portal.i18n import local_date

TOP = 16  # room above the tallest column for its value


@dataclass(frozen=True)
class Bar:
    """One rectangle, with its tooltip."""

    x: float
    y: float
    width: float
    height: float
    css: str
    tip: str


@dataclass(frozen=True)
class Label:
    """One text: a value above a column, a group's name below it, or a row's name."""

    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Chart:
    """A chart ready to draw: its size, title (for screen readers) and shapes."""

    id: str
    title: str
    width: float
    height: float
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)


@dataclass(frozen=True)
class Column:
    """A column's figure: the value it stands for (None: no figure) and how it is shown."""

    value: float | None
    tip: str
    shown: str | None = None  # the text above the column; None: no text
    css: str = "bar"


def _peak(values: Iterable[float | None]) -> float:
    return max((v for v in values if v), default=0)


def columns(
    id: str,
    title: str,
    groups: Sequence[tuple[str | None, Sequence[Column]]],
    *,
    group_width: float,
    bar_width: float,
    pad: float,
    chart_height: float,
    bottom: float = 30,
    spacing: float = 6,
    peak: float | None = None,
) -> Chart:
    """Lay out groups of columns side by side, each group with an optional name below it.

    Heights are whole pixels of ``chart_height`` for the ``peak`` (by default the largest value
    drawn); ``pad`` is the room left of a group's first column, ``spacing`` that between columns.
    """
    if peak is None:
        peak = _peak(c.value for _name, group in groups for c in group)
    chart = Chart(id, title, max(len(groups), 1) * group_width, TOP + chart_height + bottom)
    base = TOP + chart_height
    for i, (name, group) in enumerate(groups):
        left = i * group_width + pad
        for j, column in enumerate(group):
            height = round(column.value / peak * chart_height) if column.value and peak else 0
            x = left + j * (bar_width + spacing)
            chart.bars.append(Bar(x, base - height, bar_width, height, column.css, column.tip))
            if column.shown is not None:
                chart.labels.append(Label(x + bar_width / 2, base - height - 3, column.shown))
        if name is not None:
            middle = left + (len(group) * bar_width + (len(group) - 1) * spacing) / 2
            chart.labels.append(Label(middle, base + 14, name))
    return chart


def rows(id: str, title: str, items: Sequence[tuple[str, float, str]], width: float = 400) -> Chart:
    """Lay out one horizontal bar per (name, value, shown value), the name and value above it."""
    row_height = 30
    peak = _peak(value for _name, value, _shown in items)
    chart = Chart(id, title, width, max(len(items), 1) * row_height)
    for i, (name, value, shown) in enumerate(items):
        length = round(value / peak * width, 1) if peak else 0
        chart.labels.append(Label(0, i * row_height + 11, f"{name} · {shown}", anchor="start"))
        chart.bars.append(Bar(0, i * row_height + 14, length, 10, "bar", f"{name}: {shown}"))
    return chart


def number(value) -> str:
    """Format a figure for the current language; a dash when there is none."""
    return "—" if value is None else format_decimal(value)


def weekly_hours(weeks: Sequence[tuple]) -> Chart:
    """Patrol hours per week: one column a week, labelled by the week's Monday."""
    return columns(
        "hours",
        _("Patrol hours per week"),
        [
            (
                week.strftime("%d.%m"),
                [Column(hours, f"{local_date(week)}: {hours}", f"{hours:g}")],
            )
            for week, hours in weeks
        ],
        group_width=40,
        bar_width=28,
        pad=6,
        chart_height=160,
    )


def quarters(id: str, title: str, bars: Sequence[tuple]) -> Chart:
    """An indicator per quarter, (quarter, value, after), grey before the declaration."""
    return columns(
        id,
        title,
        [
            (
                str(q[0]) if q[1] == 1 else None,
                [
                    Column(
                        value,
                        f"{q[0]} Q{q[1]}: {'—' if value is None else value}",
                        None if value is None else str(value),
                        "bar" if after else "bar-before",
                    )
                ],
            )
            for q, value, after in bars
        ],
        group_width=22,
        bar_width=16,
        pad=3,
        chart_height=110,
    )


def before_after(id: str, kinds: Sequence, trends: dict, locale: str, peak=None) -> Chart:
    """Average per quarter before and after the declaration, a pair of columns per kind.

    The kinds are numbered below their pair; the caption names them. ``peak`` puts several
    charts on one scale.
    """
    groups = []
    for k in kinds:
        t = trends.get(k.code)
        pair = []
        for value, css in (
            (t.baseline if t else None, "bar-before"),
            (t.after if t else None, "bar"),
        ):
            shown = number(value)
            pair.append(Column(value, f"{k.name(locale)}: {shown}", shown, css))
        groups.append((str(len(groups) + 1), pair))
    return columns(
        id,
        _("Average per quarter before and after the declaration"),
        groups,
        group_width=110,
        bar_width=34,
        pad=14,
        chart_height=120,
        bottom=24,
        peak=peak,
    )


def install(app: Flask) -> None:
    """Let templates build charts from the figures their views give them."""
    app.jinja_env.globals.update(
        bar_rows=rows,
        weekly_hours_chart=weekly_hours,
        quarters_chart=quarters,
        before_after_chart=before_after,
    )
