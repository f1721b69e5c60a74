"""SVG bar charts: their geometry is computed here, ``templates/_charts.html`` draws any of them.

Each page's figures become a ``Chart`` (bars, axes, ticks and text placed in its viewBox, a
legend and the same figures as a table) through one of the builders below, which templates
call with the figures their view gave them; the one macro ``chart(c)`` draws every chart of
the portal the same way. A series over time shows the year before beside it, lighter.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from babel.dates import get_month_names
from babel.numbers import format_compact_decimal
from flask import Flask
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from portal.formatting import hours_of
from portal.i18n import local_date
from portal.i18n import money as format_tiyn

LEFT = 56  # room left of the value axis for its tick labels
RIGHT = 8
TOP = 26  # room above the plot for the axis title and the tallest column's value
TICKS = 4  # about this many steps on a value axis

PREVIOUS = "bar-previous"  # the year before: the same hue, lighter


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
    """One text: a value above a column, a group's name below it, a tick or an axis title."""

    x: float
    y: float
    text: str
    anchor: str = "middle"
    css: str = "chart-label"


@dataclass(frozen=True)
class Line:
    """An axis or a grid line."""

    x1: float
    y1: float
    x2: float
    y2: float
    css: str = "chart-axis"


@dataclass(frozen=True)
class Series:
    """A legend's entry: a series' name and the class its bars are drawn with."""

    name: str
    css: str


@dataclass(frozen=True)
class Table:
    """The chart's figures as a table, for screen readers, phones and copying."""

    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Chart:
    """A chart ready to draw: its size, title (for screen readers), shapes, legend and table."""

    id: str
    title: str
    width: float
    height: float
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    legend: list[Series] = field(default_factory=list)
    table: Table | None = None


@dataclass(frozen=True)
class Column:
    """A column's figure: the value it stands for (None: no figure) and how it is shown."""

    value: float | None
    tip: str
    shown: str | None = None  # the text above the column; None: no text
    css: str = "bar"


def _peak(values: Iterable[float | None]) -> float:
    return max((v for v in values if v), default=0)


def ticks(peak: float, steps: int = TICKS) -> list[float]:
    """Return round tick values from 0 to at least ``peak``: steps of 1, 2, 2.5 or 5 × 10ⁿ."""
    peak = float(peak)  # PostgreSQL's averages and sums arrive as Decimal
    if peak <= 0:
        return [0, 1]
    raw = peak / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if step < 1 and peak >= 1:
        step = 1
    count = math.ceil(peak / step - 1e-9)
    return [round(i * step, 6) for i in range(count + 1)]


def number(value) -> str:
    """Format a figure for the current language; a dash when there is none."""
    return "—" if value is None else format_decimal(value)


def _tenge(value) -> str:
    """A tick of a money axis in tenge: grouped per locale, millions shortened (``1,5 млн``)."""
    if abs(value) >= 1_000_000:
        return format_compact_decimal(value, locale=str(get_locale() or "kk"), fraction_digits=1)
    return format_decimal(round(value), format="#,##0")


def columns(
    id: str,
    title: str,
    groups: Sequence[tuple[str | None, Sequence[Column]]],
    *,
    group_width: float,
    bar_width: float,
    pad: float,
    chart_height: float,
    unit: str,
    bottom: float = 30,
    spacing: float = 2,
    peak: float | None = None,
    tick_text: Callable[[float], str] = number,
    legend: Sequence[Series] = (),
    table: Table | None = None,
) -> Chart:
    """Lay out groups of columns side by side over a value axis with ticks titled ``unit``.

    Heights are whole pixels of ``chart_height`` for the top tick, a round number at least the
    ``peak`` (by default the largest value drawn); ``pad`` is the room left of a group's first
    column, ``spacing`` that between columns.
    """
    if peak is None:
        peak = _peak(c.value for _name, group in groups for c in group)
    scale = ticks(peak)
    top = scale[-1]
    width = LEFT + max(len(groups), 1) * group_width + RIGHT
    chart = Chart(
        id,
        title,
        width,
        TOP + chart_height + bottom,
        legend=list(legend),
        table=table,
    )
    base = TOP + chart_height
    for value in scale:
        y = round(base - value / top * chart_height, 1)
        if value:
            chart.lines.append(Line(LEFT, y, width - RIGHT, y, "chart-grid"))
        chart.lines.append(Line(LEFT - 4, y, LEFT, y))
        chart.labels.append(Label(LEFT - 6, y + 3, tick_text(value), "end", "chart-tick"))
    chart.lines.append(Line(LEFT, TOP - 6, LEFT, base))
    chart.lines.append(Line(LEFT, base, width - RIGHT, base))
    chart.labels.append(Label(LEFT - 6, TOP - 12, unit, "end", "chart-axis-title"))
    for i, (name, group) in enumerate(groups):
        left = LEFT + i * group_width + pad
        for j, column in enumerate(group):
            value = float(column.value or 0)
            height = round(value / top * chart_height) if value and top else 0
            x = left + j * (bar_width + spacing)
            chart.bars.append(Bar(x, base - height, bar_width, height, column.css, column.tip))
            if column.shown is not None:
                chart.labels.append(Label(x + bar_width / 2, base - height - 3, column.shown))
        if name is not None:
            middle = left + (len(group) * bar_width + (len(group) - 1) * spacing) / 2
            chart.labels.append(Label(middle, base + 14, name))
    return chart


def rows(
    id: str,
    title: str,
    items: Sequence[tuple[str, float, str]],
    width: float = 400,
    *,
    unit: str | None = None,
    money: bool = False,
) -> Chart:
    """Lay out one horizontal bar per (name, value, shown value) over a value axis with ticks.

    ``money``: the values are tiyn, the axis counts tenge; ``unit`` titles the axis.
    """
    row_height = 30
    scale_of = 100 if money else 1
    scale = ticks(_peak(float(value) / scale_of for _name, value, _shown in items))
    top = scale[-1]
    plot = width - 2 * RIGHT
    body = max(len(items), 1) * row_height
    chart = Chart(id, title, width, body + 34)
    for i, (name, value, shown) in enumerate(items):
        length = round(float(value) / scale_of / top * plot, 1) if top else 0
        y = i * row_height
        chart.labels.append(Label(RIGHT, y + 11, f"{name} · {shown}", anchor="start"))
        chart.bars.append(Bar(RIGHT, y + 14, length, 10, "bar", f"{name}: {shown}"))
    for i, value in enumerate(scale):
        x = round(RIGHT + value / top * plot, 1)
        chart.lines.append(Line(x, 0, x, body, "chart-grid") if value else Line(x, 0, x, body))
        # The first and the last tick stay inside the chart's box.
        anchor = "start" if i == 0 else "end" if i == len(scale) - 1 else "middle"
        text = _tenge(value) if money else number(value)
        chart.labels.append(Label(x, body + 12, text, anchor, "chart-tick"))
    chart.lines.append(Line(RIGHT, body, width - RIGHT, body))
    axis_title = unit or ("₸" if money else "")
    if axis_title:
        chart.labels.append(Label(width - RIGHT, body + 28, axis_title, "end", "chart-axis-title"))
    return chart


def _pair(previous: Column | None, current: Column) -> list[Column]:
    return [current] if previous is None else [previous, current]


def weekly_hours(weeks: Sequence[tuple], previous: Sequence[tuple] | None = None) -> Chart:
    """Patrol hours per week, labelled by the week's Monday, the same weeks a year before lighter.

    ``previous`` holds the weeks 52 weeks earlier, in the same order as ``weeks``.
    """
    before = list(previous) if previous is not None else None
    groups, table = [], []
    for i, (week, hours) in enumerate(weeks):
        earlier = before[i] if before is not None and i < len(before) else None
        prev = (
            Column(earlier[1], f"{local_date(earlier[0])}: {hours_of(earlier[1])}", css=PREVIOUS)
            if earlier is not None
            else None
        )
        now = Column(hours, f"{local_date(week)}: {hours_of(hours)}")
        groups.append((week.strftime("%d.%m"), _pair(prev, now)))
        row = [local_date(week), hours_of(hours)]
        table.append(row + ([hours_of(earlier[1])] if earlier is not None else []))
    headers = [_("Week of"), _("Hours")]
    legend = []
    if before is not None:
        headers.append(_("A year earlier"))
        legend = [Series(_("A year earlier"), PREVIOUS), Series(_("This year"), "bar")]
    return columns(
        "hours",
        _("Patrol hours per week"),
        groups,
        group_width=44,
        bar_width=16 if before is not None else 28,
        pad=6,
        chart_height=160,
        unit=_("hours"),
        legend=legend,
        table=Table(headers, table),
    )


def quarters(id: str, title: str, bars: Sequence[tuple]) -> Chart:
    """An indicator per quarter, (quarter, value, after), grey before the declaration.

    Beside each quarter, lighter, the same quarter a year before when the series holds it.
    """
    by_quarter = {tuple(q): value for q, value, _after in bars}
    groups, table = [], []
    for q, value, after in bars:
        earlier = by_quarter.get((q[0] - 1, q[1]))
        label = _("%(year)s Q%(n)s", year=q[0], n=q[1])
        prev = Column(earlier, f"{label} − 1: {number(earlier)}", css=PREVIOUS)
        now = Column(value, f"{label}: {number(value)}", css="bar" if after else "bar-before")
        groups.append((str(q[0]) if q[1] == 1 else None, [prev, now]))
        table.append(
            [label + (f" · {_('after')}" if after else ""), number(value), number(earlier)]
        )
    return columns(
        id,
        title,
        groups,
        group_width=22,
        bar_width=9,
        pad=1,
        spacing=1,
        chart_height=110,
        unit=_("number"),
        legend=[
            Series(_("The same quarter a year earlier"), PREVIOUS),
            Series(_("Before the declaration"), "bar-before"),
            Series(_("After the declaration"), "bar"),
        ],
        table=Table([_("Quarter"), _("Value"), _("A year earlier")], table),
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
        spacing=6,
        chart_height=120,
        bottom=24,
        peak=peak,
        unit=_("per quarter"),
        legend=[
            Series(_("Before the declaration"), "bar-before"),
            Series(_("After the declaration"), "bar"),
        ],
    )


def _month_rows(months: Sequence) -> dict[int, int]:
    return {int(m["month"]): int(m["disbursed_tiyn"] or 0) for m in months}


def monthly_paid(months: Sequence, previous: Sequence, year: int) -> Chart:
    """Paid per month of ``year`` in tenge, each month beside the same month of the year before.

    ``months`` and ``previous`` are rows of ``budget.reports.disbursed_by_period`` (month,
    disbursed_tiyn) of ``year`` and ``year - 1``.
    """
    now, before = _month_rows(months), _month_rows(previous)
    names = get_month_names("abbreviated", "stand-alone", locale=str(get_locale() or "kk"))
    groups, table = [], []
    for m in range(1, 13):
        this, last = now.get(m, 0), before.get(m, 0)
        groups.append(
            (
                names[m],
                [
                    Column(last / 100, f"{names[m]} {year - 1}: {format_tiyn(last)}", css=PREVIOUS),
                    Column(this / 100, f"{names[m]} {year}: {format_tiyn(this)}"),
                ],
            )
        )
        table.append([names[m], format_tiyn(this), format_tiyn(last)])
    return columns(
        "months",
        _("Paid by month"),
        groups,
        group_width=34,
        bar_width=13,
        pad=3,
        chart_height=150,
        unit="₸",
        tick_text=_tenge,
        legend=[Series(str(year - 1), PREVIOUS), Series(str(year), "bar")],
        table=Table([_("Month"), str(year), str(year - 1)], table),
    )


def install(app: Flask) -> None:
    """Let templates build charts from the figures their views give them."""
    app.jinja_env.globals.update(
        bar_rows=rows,
        weekly_hours_chart=weekly_hours,
        quarters_chart=quarters,
        before_after_chart=before_after,
        monthly_paid_chart=monthly_paid,
    )
