"""Quarterly indicators of sober settlements: kinds, values entered and imported."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from core import audit, places
from core.cell_text import header_key
from core.db import utcnow
from core.errors import N_, Conflict, DomainError
from core.scope import Scope
from core.spreadsheets import Table, check_upload, read_table, refuse_formulas
from incentives.sober_models import (
    IndicatorKind,
    IndicatorValue,
)
from sober.declarations import _check_text, _require_scope, _settlement
from sober.quarters import Quarter, quarter_of
from volunteers.importing import ImportReport, Problem

MAX_VALUE = 100_000
FIRST_YEAR = 2000
IMPORT_COLUMNS = ("kato", "kind", "year", "quarter", "value")
# The columns' names in Kazakh, Russian and English, as officials head them.
IMPORT_COLUMN_NAMES = {
    "kato": ("Елді мекеннің ҚАТО коды", "Код КАТО населённого пункта", "Settlement KATO code"),
    "kind": ("Көрсеткіш", "Показатель", "Indicator", "Kind"),
    "year": ("Жыл", "Год", "Year"),
    "quarter": ("Тоқсан", "Квартал", "Quarter"),
    "value": ("Мәні", "Значение", "Value"),
}
AUDIT_CHUNK = 500


def indicator_kinds(session: Session, *, active_only: bool = True) -> list[IndicatorKind]:
    """Return the indicator kinds in display order."""
    query = select(IndicatorKind).order_by(IndicatorKind.position, IndicatorKind.code)
    if active_only:
        query = query.where(IndicatorKind.active)
    return list(session.scalars(query))


def save_indicator_kind(
    session: Session,
    *,
    code: str,
    name_kk: str,
    name_ru: str,
    name_en: str,
    active: bool,
    position: int,
    actor_id: int,
) -> IndicatorKind:
    """Add an indicator kind or change its names, use and order (the code stays)."""
    code = (code or "").strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,39}", code):
        raise DomainError(
            N_("The code is 2–40 Latin letters, digits or _, starting with a letter.")
        )
    names = {
        "name_kk": _check_text(name_kk, 200, N_("Give the name in all three languages.")),
        "name_ru": _check_text(name_ru, 200, N_("Give the name in all three languages.")),
        "name_en": _check_text(name_en, 200, N_("Give the name in all three languages.")),
    }
    kind = session.get(IndicatorKind, code)
    before = None
    if kind is None:
        kind = IndicatorKind(code=code)
        session.add(kind)
    else:
        before = {k: getattr(kind, k) for k in (*names, "active", "position")}
    for key, value in names.items():
        setattr(kind, key, value)
    kind.active = bool(active)
    kind.position = int(position or 0)
    session.flush()
    audit.record(
        session,
        action="sober.indicator_kind_save",
        object_type="sober_indicator_kind",
        object_id=code,
        actor_id=actor_id,
        payload={"before": before, "after": {**names, "active": kind.active}},
    )
    return kind


def _check_value(
    kind_row: IndicatorKind | None, year: int | None, quarter: int | None, value, today: dt.date
) -> int:
    if kind_row is None or not kind_row.active:
        raise DomainError(N_("Unknown kind of indicator."))
    if year is None or quarter is None or quarter not in (1, 2, 3, 4) or year < FIRST_YEAR:
        raise DomainError(
            N_("Choose the year (%(first)s or later) and the quarter (1–4)."), first=FIRST_YEAR
        )
    if (year, quarter) > quarter_of(today):
        raise DomainError(N_("A value cannot be recorded for a future quarter."))
    if value is None or isinstance(value, bool) or int(value) != value:
        raise DomainError(N_("The value must be a whole number."))
    if value < 0:
        raise DomainError(N_("The value cannot be negative."))
    if value > MAX_VALUE:
        raise DomainError(N_("The value is implausibly large."))
    return int(value)


def record_indicator(
    session: Session,
    *,
    unit_id: int,
    kind: str,
    year: int | None,
    quarter: int | None,
    value,
    actor_id: int,
    scope: Scope,
    today: dt.date,
) -> IndicatorValue:
    """Record one quarter's figure of one indicator for a settlement (once per quarter)."""
    unit = _settlement(session, unit_id)
    _require_scope(session, unit.id, scope)
    value = _check_value(session.get(IndicatorKind, kind or ""), year, quarter, value, today)
    if session.scalar(
        select(IndicatorValue.id).where(
            IndicatorValue.unit_id == unit.id,
            IndicatorValue.kind == kind,
            IndicatorValue.year == year,
            IndicatorValue.quarter == quarter,
        )
    ):
        raise Conflict(
            N_("%(year)s Q%(quarter)s is already recorded for this settlement and kind."),
            year=year,
            quarter=quarter,
        )
    row = IndicatorValue(
        unit_id=unit.id,
        kind=kind,
        year=year,
        quarter=quarter,
        value=value,
        source="manual",
        entered_by_id=actor_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        action="sober.indicator_record",
        object_type="sober_indicator_value",
        object_id=row.id,
        actor_id=actor_id,
        payload={
            "unit_id": unit.id,
            "kind": kind,
            "year": year,
            "quarter": quarter,
            "value": value,
        },
    )
    return row


def check_indicator_file(content: bytes, filename: str) -> None:
    """Refuse an indicators file by the cheap checks an upload request can afford."""
    check_upload(
        content, filename, columns=IMPORT_COLUMNS, formats=("csv",), aliases=IMPORT_COLUMN_NAMES
    )


def read_indicator_table(content: bytes, filename: str) -> Table:
    """Read an indicators CSV (kato, kind, year, quarter, value) as text, row by row."""
    return read_table(
        content, filename, columns=IMPORT_COLUMNS, formats=("csv",), aliases=IMPORT_COLUMN_NAMES
    )


def _whole(text: str, message: str) -> int:
    # Thousands written with (no-break) spaces, as a Russian or Kazakh Excel shows them.
    text = "".join((text or "").split())
    if not re.fullmatch(r"-?\d{1,9}", text):
        raise DomainError(message)
    return int(text)


def import_indicator_rows(
    session: Session,
    rows: list[dict[str, str]],
    *,
    actor_id: int,
    scope: Scope,
    today: dt.date,
    progress: Callable[[int, str], None] | None = None,
    numbers: Sequence[int] | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    """Record the valid rows of an indicators file; every other row goes to the report.

    A quarter already recorded is reported as a duplicate and left as it is, so the same file
    can be imported twice without changing anything. ``numbers`` are the rows' numbers in the
    file (by default 2, 3, ...); a job importing in chunks passes each with the same ``report``.
    """
    report = ImportReport() if report is None else report
    units = {
        u.kato: u
        for u in session.scalars(
            select(places.AdminUnit).where(places.AdminUnit.level == "settlement")
        )
    }
    kinds = {k.code: k for k in session.scalars(select(IndicatorKind))}
    # A kind is named by its code or by its name in any of the three languages.
    kind_named = {header_key(code): code for code in kinds}
    for k in kinds.values():
        for name in (k.name_kk, k.name_ru, k.name_en):
            kind_named.setdefault(header_key(name), k.code)
    report.read += len(rows)
    covered = scope.unit_ids_covered(session)
    in_scope = None if covered is None else set(covered)
    parsed: list[tuple[int, dict]] = []
    # Row 1 is the header, unless the file says otherwise.
    for number, row in zip(numbers or range(2, len(rows) + 2), rows, strict=True):
        try:
            # A negative whole value is a number, not a formula.
            refuse_formulas(
                row, lambda key, value: key == "value" and bool(re.fullmatch(r"-\d+", value))
            )
            unit = units.get("".join(row["kato"].split()))
            if unit is None:
                raise DomainError(
                    N_("Unknown settlement KATO code %(kato)s."), kato=row["kato"][:20]
                )
            if in_scope is not None and unit.id not in in_scope:
                raise DomainError(
                    N_("The settlement %(kato)s is outside your jurisdiction."), kato=row["kato"]
                )
            year = _whole(row["year"], N_("The year must be a whole number."))
            quarter = _whole(
                row["quarter"].upper().removeprefix("Q"), N_("The quarter is 1, 2, 3 or 4.")
            )
            value = _whole(row["value"], N_("The value must be a whole number."))
            kind = kind_named.get(header_key(row["kind"]), row["kind"])
            value = _check_value(kinds.get(kind), year, quarter, value, today)
        except DomainError as exc:
            report.problems.append(Problem(number, exc.message, exc.params, values=row))
            continue
        parsed.append(
            (
                number,
                row,
                {
                    "unit_id": unit.id,
                    "kind": kind,
                    "year": year,
                    "quarter": quarter,
                    "value": value,
                },
            )
        )
    if progress:
        progress(20, "")
    keys = list({(p["unit_id"], p["kind"], p["year"], p["quarter"]) for _n, _r, p in parsed})
    existing = set()
    for start in range(0, len(keys), 400):
        existing.update(
            session.execute(
                select(
                    IndicatorValue.unit_id,
                    IndicatorValue.kind,
                    IndicatorValue.year,
                    IndicatorValue.quarter,
                ).where(
                    tuple_(
                        IndicatorValue.unit_id,
                        IndicatorValue.kind,
                        IndicatorValue.year,
                        IndicatorValue.quarter,
                    ).in_(keys[start : start + 400])
                )
            ).all()
        )
    now = utcnow()
    fresh = []
    for number, row, p in parsed:
        key = (p["unit_id"], p["kind"], p["year"], p["quarter"])
        if key in existing:
            report.duplicates += 1
            report.problems.append(
                Problem(
                    number,
                    N_("%(year)s Q%(quarter)s is already recorded for this settlement and kind."),
                    {"year": p["year"], "quarter": p["quarter"]},
                    values=row,
                )
            )
            continue
        existing.add(key)
        fresh.append({**p, "source": "import", "entered_by_id": actor_id, "entered_at": now})
    for start in range(0, len(fresh), 1000):
        session.execute(insert(IndicatorValue.__table__), fresh[start : start + 1000])
        if progress:
            progress(20 + int((start + 1000) * 70 / max(len(fresh), 1)), "")
    report.imported += len(fresh)
    report.problems.sort(key=lambda problem: problem.number)
    for start in range(0, len(fresh), AUDIT_CHUNK):
        chunk = fresh[start : start + AUDIT_CHUNK]
        audit.record(
            session,
            action="sober.indicator_import",
            object_type="sober_indicator_import",
            object_id=None,
            actor_id=actor_id,
            payload={
                "count": len(chunk),
                "values": [
                    [c["unit_id"], c["kind"], c["year"], c["quarter"], c["value"]] for c in chunk
                ],
            },
        )
    return report


def values_for(session: Session, unit_ids: list[int]) -> dict[int, dict[str, dict[Quarter, int]]]:
    """Return {unit: {kind: {(year, quarter): value}}} for the given settlements."""
    out: dict[int, dict[str, dict[Quarter, int]]] = {u: {} for u in unit_ids}
    for start in range(0, len(unit_ids), 500):
        for row in session.execute(
            select(
                IndicatorValue.unit_id,
                IndicatorValue.kind,
                IndicatorValue.year,
                IndicatorValue.quarter,
                IndicatorValue.value,
            ).where(IndicatorValue.unit_id.in_(unit_ids[start : start + 500]))
        ):
            out[row.unit_id].setdefault(row.kind, {})[(row.year, row.quarter)] = row.value
    return out
