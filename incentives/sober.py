"""Sober settlements: the registry of declarations, quarterly indicators and initiatives.

A settlement's sober status is a voluntary commitment its residents make at a gathering; shops
stop selling alcohol of their own will. The portal records it and follows the indicators; it
never treats the status as a legal ban.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from sqlalchemy import insert, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, places, uploads
from core.db import utcnow
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied
from core.transitions import advance
from incentives.sober_models import (
    PROPOSER_ROLES,
    SIGNATORY_ROLES,
    IndicatorKind,
    IndicatorValue,
    Initiative,
    InitiativeComment,
    SoberDeclaration,
    SoberOutlet,
    SoberSignatory,
    SoberStatusChange,
)
from incentives.workflow import INITIATIVE, SOBER_DECLARATION
from volunteers.importing import FORMULA_STARTS, BadImportFile, ImportReport

MAX_PDF_BYTES = 5 * 1024 * 1024
MAX_ATTENDANCE = 100_000
MAX_VALUE = 100_000
FIRST_YEAR = 2000
BASELINE_MIN_YEARS, BASELINE_MAX_YEARS = 3, 5
IMPORT_COLUMNS = ("kato", "kind", "year", "quarter", "value")
MAX_IMPORT_ROWS = 50_000
AUDIT_CHUNK = 500

# The review step that leads to each status (the steps: incentives.workflow.INITIATIVE).
REVIEW_STEP_TO = {step.target: name for name, step in INITIATIVE.steps.items()}

Quarter = tuple[int, int]  # (year, quarter 1..4)


# ---- quarters ---------------------------------------------------------------------------------


def quarter_of(day: dt.date) -> Quarter:
    """Return the (year, quarter) a day falls in."""
    return day.year, (day.month - 1) // 3 + 1


def quarter_start(year: int, quarter: int) -> dt.date:
    """Return the first day of a quarter."""
    return dt.date(year, 3 * (quarter - 1) + 1, 1)


def shift_quarter(q: Quarter, by: int) -> Quarter:
    """Return the quarter ``by`` quarters after ``q`` (before it when negative)."""
    index = q[0] * 4 + (q[1] - 1) + by
    return index // 4, index % 4 + 1


def quarters_between(first: Quarter, last: Quarter) -> list[Quarter]:
    """Return every quarter from ``first`` to ``last``, both included."""
    out, q = [], first
    while q <= last:
        out.append(q)
        q = shift_quarter(q, 1)
    return out


def _check_text(value: str | None, limit: int, missing: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(missing)
    if len(value) > limit:
        raise DomainError(N_("A text is longer than %(n)s characters."), n=limit)
    return value


def _settlement(session: Session, unit_id: int | None) -> places.AdminUnit:
    unit = session.get(places.AdminUnit, unit_id) if unit_id else None
    if unit is None or unit.level != "settlement":
        raise DomainError(N_("Choose a settlement (a village or a town)."))
    return unit


def _require_scope(session: Session, unit_id: int, scope_ids: list[int]) -> None:
    if not places.within(session, unit_id, scope_ids):
        raise PermissionDenied(N_("This settlement is outside your jurisdiction."))


# ---- the registry ------------------------------------------------------------------------------


def store_record_pdf(
    session: Session, *, filename: str, content: bytes, owner_id: int | None
) -> uploads.StoredFile:
    """Keep the scanned record of a gathering: a PDF of at most 5 MB."""
    if not content:
        raise DomainError(N_("The file is empty."))
    if len(content) > MAX_PDF_BYTES:
        raise DomainError(N_("The file is larger than %(mb)s MB."), mb=MAX_PDF_BYTES // 1024**2)
    if not content.startswith(b"%PDF-"):
        raise DomainError(N_("The record of the gathering must be a PDF file."))
    name = re.sub(r"[^\w.\- ]", "_", filename or "record.pdf")[:120] or "record.pdf"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    return uploads.store(
        session, filename=name, content_type="application/pdf", content=content, owner_id=owner_id
    )


def get_declaration(session: Session, declaration_id: int) -> SoberDeclaration:
    """Return the declaration or raise NotFound."""
    found = session.get(SoberDeclaration, declaration_id)
    if found is None:
        raise NotFound(N_("No such declaration."))
    return found


def _in_scope_declaration(
    session: Session, declaration_id: int, scope_ids: list[int]
) -> SoberDeclaration:
    declaration = get_declaration(session, declaration_id)
    if not places.within(session, declaration.unit_id, scope_ids):
        raise NotFound(N_("No such declaration."))
    return declaration


def _check_outlet(name: str | None, stopped_on: dt.date | None, today: dt.date) -> str:
    name = _check_text(name, 200, N_("Name the retail outlet."))
    if stopped_on is None:
        raise DomainError(N_("Enter the date the outlet stopped selling alcohol."))
    if stopped_on > today:
        raise DomainError(N_("The date the outlet stopped selling alcohol is in the future."))
    return name


def declare(
    session: Session,
    *,
    unit_id: int,
    gathered_on: dt.date | None,
    attendance: int | None,
    record_reference: str | None,
    record_file_id: int | None,
    signatories: Iterable[tuple[str, str]],
    outlets: Iterable[tuple[str, dt.date | None]],
    actor_id: int,
    scope_ids: list[int],
    today: dt.date,
    now: dt.datetime | None = None,
) -> SoberDeclaration:
    """Record a settlement's declaration made at a gathering of its residents."""
    unit = _settlement(session, unit_id)
    _require_scope(session, unit.id, scope_ids)
    if gathered_on is None:
        raise DomainError(N_("Enter the date of the gathering."))
    if gathered_on > today:
        raise DomainError(N_("The date of the gathering cannot be in the future."))
    if attendance is None or attendance <= 0:
        raise DomainError(N_("Enter how many residents attended the gathering (more than zero)."))
    if attendance > MAX_ATTENDANCE:
        raise DomainError(N_("The attendance is implausibly large."))
    record_reference = (record_reference or "").strip() or None
    if record_reference and len(record_reference) > 300:
        raise DomainError(N_("A text is longer than %(n)s characters."), n=300)
    if not record_reference and not record_file_id:
        raise DomainError(N_("Give the record of the gathering: its reference or the scanned PDF."))
    signed = []
    for name, role in signatories:
        name = (name or "").strip()
        if not name:
            continue
        if role not in SIGNATORY_ROLES:
            raise DomainError(N_("Unknown role of a signatory."))
        signed.append((_check_text(name, 200, ""), role))
    if not signed:
        raise DomainError(N_("Name at least one signatory of the record."))
    shops = []
    for name, stopped_on in outlets:
        if not (name or "").strip() and stopped_on is None:
            continue
        shops.append((_check_outlet(name, stopped_on, today), stopped_on))
    in_force = Conflict(N_("This settlement already has a declaration in force."))
    if session.scalar(
        select(SoberDeclaration.id).where(
            SoberDeclaration.unit_id == unit.id, SoberDeclaration.status != "revoked"
        )
    ):
        raise in_force
    now = now or utcnow()
    declaration = SoberDeclaration(
        unit_id=unit.id,
        gathered_on=gathered_on,
        attendance=attendance,
        record_reference=record_reference,
        record_file_id=record_file_id,
        status="declared",
        declared_by_id=actor_id,
        declared_at=now,
    )
    try:
        with session.begin_nested():
            session.add(declaration)
            session.flush()
    except IntegrityError:
        # Lost a race with a concurrent declaration: the partial unique index decided.
        raise in_force from None
    for position, (name, role) in enumerate(signed):
        session.add(
            SoberSignatory(
                declaration_id=declaration.id, full_name=name, role=role, position=position
            )
        )
    for name, stopped_on in shops:
        session.add(
            SoberOutlet(
                declaration_id=declaration.id,
                name=name,
                stopped_on=stopped_on,
                added_by_id=actor_id,
                added_at=now,
            )
        )
    session.add(
        SoberStatusChange(
            declaration_id=declaration.id,
            from_status=None,
            to_status="declared",
            reason=None,
            actor_id=actor_id,
            at=now,
        )
    )
    session.flush()
    audit.record(
        session,
        action="sober.declare",
        object_type="sober_declaration",
        object_id=declaration.id,
        actor_id=actor_id,
        now=now,
        payload={
            "unit_id": unit.id,
            "gathered_on": gathered_on.isoformat(),
            "attendance": attendance,
            "record_reference": record_reference,
            "record_file_id": record_file_id,
            "signatories": len(signed),
            "outlets": len(shops),
        },
    )
    return declaration


def _change_status(
    session: Session,
    declaration: SoberDeclaration,
    *,
    to_status: str,
    reason: str | None,
    actor_id: int,
    now: dt.datetime,
) -> None:
    before = declaration.status
    values = {"decided_by_id": actor_id, "decided_at": now}
    if to_status == "confirmed":
        values["confirmed_at"] = now
    if to_status == "revoked":
        values["revoke_reason"] = reason
    step = "confirm" if to_status == "confirmed" else "revoke"
    advance(session, SOBER_DECLARATION, declaration, step, values=values)
    session.add(
        SoberStatusChange(
            declaration_id=declaration.id,
            from_status=before,
            to_status=to_status,
            reason=reason,
            actor_id=actor_id,
            at=now,
        )
    )
    session.flush()
    audit.record(
        session,
        action=f"sober.{'confirm' if to_status == 'confirmed' else 'revoke'}",
        object_type="sober_declaration",
        object_id=declaration.id,
        actor_id=actor_id,
        now=now,
        payload={"from": before, "to": to_status, "reason": reason},
    )


def confirm(
    session: Session,
    *,
    declaration_id: int,
    actor_id: int,
    scope_ids: list[int],
    now: dt.datetime | None = None,
) -> SoberDeclaration:
    """Confirm a declared status (the police and akimat checked the gathering's record)."""
    declaration = _in_scope_declaration(session, declaration_id, scope_ids)
    if declaration.status == "revoked":
        raise Conflict(
            N_("A revoked status cannot be confirmed. Record a new declaration instead.")
        )
    if declaration.status == "confirmed":
        raise Conflict(N_("This status is already confirmed."))
    _change_status(
        session,
        declaration,
        to_status="confirmed",
        reason=None,
        actor_id=actor_id,
        now=now or utcnow(),
    )
    return declaration


def revoke(
    session: Session,
    *,
    declaration_id: int,
    reason: str | None,
    actor_id: int,
    scope_ids: list[int],
    now: dt.datetime | None = None,
) -> SoberDeclaration:
    """Revoke a declared or confirmed status, with the reason written down."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(N_("Write the reason for revoking the status."))
    if len(reason) > 2000:
        raise DomainError(N_("A text is longer than %(n)s characters."), n=2000)
    declaration = _in_scope_declaration(session, declaration_id, scope_ids)
    if declaration.status == "revoked":
        raise Conflict(N_("This status is already revoked."))
    _change_status(
        session,
        declaration,
        to_status="revoked",
        reason=reason,
        actor_id=actor_id,
        now=now or utcnow(),
    )
    return declaration


def add_outlet(
    session: Session,
    *,
    declaration_id: int,
    name: str | None,
    stopped_on: dt.date | None,
    actor_id: int,
    scope_ids: list[int],
    today: dt.date,
) -> SoberOutlet:
    """Add a retail outlet that has since stopped selling alcohol of its own will."""
    declaration = _in_scope_declaration(session, declaration_id, scope_ids)
    if declaration.status == "revoked":
        raise Conflict(N_("This status is revoked; it can no longer change."))
    name = _check_outlet(name, stopped_on, today)
    outlet = SoberOutlet(
        declaration_id=declaration.id, name=name, stopped_on=stopped_on, added_by_id=actor_id
    )
    session.add(outlet)
    session.flush()
    audit.record(
        session,
        action="sober.outlet_add",
        object_type="sober_declaration",
        object_id=declaration.id,
        actor_id=actor_id,
        payload={"outlet_id": outlet.id, "name": name, "stopped_on": stopped_on.isoformat()},
    )
    session.expire(declaration, ["outlets"])
    return outlet


# ---- indicators --------------------------------------------------------------------------------


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
    scope_ids: list[int],
    today: dt.date,
) -> IndicatorValue:
    """Record one quarter's figure of one indicator for a settlement (once per quarter)."""
    unit = _settlement(session, unit_id)
    _require_scope(session, unit.id, scope_ids)
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


def read_indicator_table(content: bytes, filename: str) -> list[dict[str, str]]:
    """Read an indicators CSV (kato, kind, year, quarter, value) as text, row by row."""
    if not (filename or "").lower().endswith(".csv"):
        raise BadImportFile(N_("Upload a CSV file."))
    try:
        frame = pd.read_csv(
            io.BytesIO(content),
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            nrows=MAX_IMPORT_ROWS + 1,
        )
    except (ValueError, UnicodeDecodeError, KeyError, OSError) as exc:
        raise BadImportFile(
            N_("The file cannot be read: %(error)s"), error=str(exc)[:200]
        ) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in IMPORT_COLUMNS if c not in frame.columns]
    if missing:
        raise BadImportFile(
            N_("The file lacks the columns: %(columns)s."), columns=", ".join(missing)
        )
    if len(frame) > MAX_IMPORT_ROWS:
        raise BadImportFile(N_("The file has more than %(n)s rows."), n=MAX_IMPORT_ROWS)
    frame = frame.reindex(columns=list(IMPORT_COLUMNS), fill_value="")
    return [{k: str(v).strip() for k, v in row.items()} for row in frame.to_dict("records")]


def _whole(text: str, message: str) -> int:
    if not re.fullmatch(r"-?\d{1,9}", text or ""):
        raise DomainError(message)
    return int(text)


def import_indicator_rows(
    session: Session,
    rows: list[dict[str, str]],
    *,
    actor_id: int,
    scope_ids: list[int],
    today: dt.date,
    progress: Callable[[int, str], None] | None = None,
) -> ImportReport:
    """Record the valid rows of an indicators file; every other row goes to the report.

    A quarter already recorded is reported as a duplicate and left as it is, so the same file
    can be imported twice without changing anything.
    """
    report = ImportReport()
    units = {
        u.kato: u
        for u in session.scalars(
            select(places.AdminUnit).where(places.AdminUnit.level == "settlement")
        )
    }
    kinds = {k.code: k for k in session.scalars(select(IndicatorKind))}
    scope_paths = list(
        session.scalars(select(places.AdminUnit.path).where(places.AdminUnit.id.in_(scope_ids)))
    )
    parsed: list[tuple[int, dict]] = []
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        try:
            for key, value in row.items():
                if value.startswith(FORMULA_STARTS) and not (
                    key == "value" and re.fullmatch(r"-\d+", value)
                ):
                    raise DomainError(
                        N_("The column %(column)s starts with a formula character."), column=key
                    )
            unit = units.get(row["kato"])
            if unit is None:
                raise DomainError(
                    N_("Unknown settlement KATO code %(kato)s."), kato=row["kato"][:20]
                )
            if not any(unit.path.startswith(p) for p in scope_paths):
                raise DomainError(
                    N_("The settlement %(kato)s is outside your jurisdiction."), kato=row["kato"]
                )
            year = _whole(row["year"], N_("The year must be a whole number."))
            quarter = _whole(
                row["quarter"].upper().removeprefix("Q"), N_("The quarter is 1, 2, 3 or 4.")
            )
            value = _whole(row["value"], N_("The value must be a whole number."))
            value = _check_value(kinds.get(row["kind"]), year, quarter, value, today)
        except DomainError as exc:
            report.problems.append((number, exc.message, exc.params))
            continue
        parsed.append(
            (
                number,
                {
                    "unit_id": unit.id,
                    "kind": row["kind"],
                    "year": year,
                    "quarter": quarter,
                    "value": value,
                },
            )
        )
    if progress:
        progress(20, "")
    keys = list({(p["unit_id"], p["kind"], p["year"], p["quarter"]) for _n, p in parsed})
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
    for number, p in parsed:
        key = (p["unit_id"], p["kind"], p["year"], p["quarter"])
        if key in existing:
            report.duplicates += 1
            report.problems.append(
                (
                    number,
                    N_("%(year)s Q%(quarter)s is already recorded for this settlement and kind."),
                    {"year": p["year"], "quarter": p["quarter"]},
                )
            )
            continue
        existing.add(key)
        fresh.append({**p, "source": "import", "entered_by_id": actor_id, "entered_at": now})
    for start in range(0, len(fresh), 1000):
        session.execute(insert(IndicatorValue.__table__), fresh[start : start + 1000])
        if progress:
            progress(20 + int((start + 1000) * 70 / max(len(fresh), 1)), "")
    report.imported = len(fresh)
    report.problems.sort(key=lambda problem: problem[0])
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


# ---- baseline and change -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Trend:
    """An indicator before and after a declaration: averages per quarter and the change.

    ``baseline`` is the average per quarter over the recorded quarters of the 5 years before
    the declaration's quarter; it is None unless they cover at least 3 years (12 quarters).
    ``after`` averages the quarters after the declaration's quarter up to the last one with a
    figure. ``change_pct`` is None when either is missing or the baseline is zero.
    """

    baseline: Decimal | None
    after: Decimal | None
    change_pct: Decimal | None
    baseline_quarters: int
    after_quarters: int


def _avg(values: list[int]) -> Decimal | None:
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def percent_change(before: Decimal | None, after: Decimal | None) -> Decimal | None:
    """Return the change from ``before`` to ``after`` in percent, to one decimal."""
    if before is None or after is None or before == 0:
        return None
    return ((after - before) * 100 / before).quantize(Decimal("0.1"), ROUND_HALF_UP)


def trend(values: dict[Quarter, int], declared_on: dt.date) -> Trend:
    """Compare one indicator's quarters before a declaration with those after it."""
    declared_q = quarter_of(declared_on)
    first = shift_quarter(declared_q, -4 * BASELINE_MAX_YEARS)
    before = [v for q, v in values.items() if first <= q < declared_q]
    after = [v for q, v in values.items() if q > declared_q]
    baseline = _avg(before) if len(before) >= 4 * BASELINE_MIN_YEARS else None
    later = _avg(after)
    return Trend(baseline, later, percent_change(baseline, later), len(before), len(after))


def combined_trend(items: list[tuple[dict[Quarter, int], dt.date]]) -> Trend:
    """Add up the settlements of an area, each compared with its own baseline.

    The area's baseline is the sum of its settlements' baselines, its 'after' the sum of their
    'after' averages, over the settlements that have both.
    """
    trends = [trend(values, day) for values, day in items]
    both = [t for t in trends if t.baseline is not None and t.after is not None]
    if not both:
        return Trend(None, None, None, 0, 0)
    baseline = sum((t.baseline for t in both), Decimal(0))
    after = sum((t.after for t in both), Decimal(0))
    return Trend(
        baseline,
        after,
        percent_change(baseline, after),
        sum(t.baseline_quarters for t in both),
        sum(t.after_quarters for t in both),
    )


def series(
    values: dict[Quarter, int], declared_on: dt.date | None, last: Quarter, count: int = 24
) -> list[tuple[Quarter, int | None, bool]]:
    """Return the last ``count`` quarters up to ``last``: (quarter, value, after declaration)."""
    declared_q = quarter_of(declared_on) if declared_on else None
    first = shift_quarter(last, -(count - 1))
    return [
        (q, values.get(q), declared_q is not None and q > declared_q)
        for q in quarters_between(first, last)
    ]


# ---- the public overview -----------------------------------------------------------------------


@dataclasses.dataclass
class Area:
    """A region or district on the public page: its confirmed settlements and trends."""

    unit: places.AdminUnit
    settlements: list[dict] = dataclasses.field(default_factory=list)
    children: list[Area] = dataclasses.field(default_factory=list)
    trends: dict[str, Trend] = dataclasses.field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.settlements) + sum(c.count for c in self.children)


def _ancestors(units: dict[int, places.AdminUnit], unit: places.AdminUnit) -> list:
    out, current = [], unit
    while current.parent_id is not None:
        current = units[current.parent_id]
        out.append(current)
    return out


def public_overview(session: Session, *, region_ids: list[int] | None = None) -> list[Area]:
    """Return the confirmed sober settlements grouped by region and district, with trends.

    Only places, dates, counts and indicator figures: no names of people.
    """
    declarations = list(
        session.scalars(select(SoberDeclaration).where(SoberDeclaration.status == "confirmed"))
    )
    units = {u.id: u for u in session.scalars(select(places.AdminUnit))}
    kinds = indicator_kinds(session)
    values = values_for(session, [d.unit_id for d in declarations])
    regions: dict[int, Area] = {}
    districts: dict[int, Area] = {}
    inputs: dict[int, dict[str, list]] = {}
    for d in declarations:
        chain = _ancestors(units, d.unit)
        # The top-level unit under the country: a region or a city of republican significance.
        region = chain[-2] if len(chain) >= 2 else d.unit
        district = next(
            (u for u in chain if u.level in ("district", "city") and u.id != region.id), region
        )
        if region_ids is not None and region.id not in region_ids:
            continue
        area = regions.setdefault(region.id, Area(region))
        if district.id not in districts:
            districts[district.id] = Area(district)
            area.children.append(districts[district.id])
        own = values[d.unit_id]
        districts[district.id].settlements.append(
            {
                "unit": d.unit,
                "gathered_on": d.gathered_on,
                "confirmed_at": d.confirmed_at,
                "outlets": len(d.outlets),
                "trends": {k.code: trend(own.get(k.code, {}), d.gathered_on) for k in kinds},
            }
        )
        for k in kinds:
            for key in (district.id, region.id):
                inputs.setdefault(key, {}).setdefault(k.code, []).append(
                    (own.get(k.code, {}), d.gathered_on)
                )
    for key, area in [*districts.items(), *regions.items()]:
        area.trends = {code: combined_trend(items) for code, items in inputs[key].items()}
    for area in regions.values():
        area.children.sort(key=lambda a: a.unit.kato)
        for child in area.children:
            child.settlements.sort(key=lambda s: s["unit"].kato)
    return sorted(regions.values(), key=lambda a: a.unit.kato)


# ---- initiatives -------------------------------------------------------------------------------


def get_initiative(session: Session, initiative_id: int) -> Initiative:
    """Return the initiative or raise NotFound."""
    found = session.get(Initiative, initiative_id)
    if found is None:
        raise NotFound(N_("No such initiative."))
    return found


def submit_initiative(
    session: Session,
    *,
    unit_id: int,
    title: str,
    description: str,
    measures: str,
    team: str,
    requested_incentive: str,
    proposer_role: str,
    actor_id: int,
    home_unit_id: int,
) -> Initiative:
    """Submit an initiative for the settlement the activist or rural akim lives in."""
    unit = _settlement(session, unit_id)
    if not places.within(session, unit.id, [home_unit_id]):
        raise PermissionDenied(N_("Submit initiatives only for the settlement where you live."))
    if proposer_role not in PROPOSER_ROLES:
        raise DomainError(N_("Say whether you submit as an activist or as the rural akim."))
    fields = {
        "title": _check_text(title, 200, N_("Give the initiative a title.")),
        "description": _check_text(description, 4000, N_("Describe the initiative.")),
        "measures": _check_text(measures, 4000, N_("List the measures planned or taken.")),
        "team": _check_text(team, 2000, N_("Name the team of the initiative.")),
        "requested_incentive": _check_text(
            requested_incentive, 1000, N_("Say what incentive is requested.")
        ),
    }
    initiative = Initiative(
        unit_id=unit.id,
        proposer_role=proposer_role,
        status="submitted",
        submitted_by_id=actor_id,
        **fields,
    )
    session.add(initiative)
    session.flush()
    audit.record(
        session,
        action="sober.initiative_submit",
        object_type="sober_initiative",
        object_id=initiative.id,
        actor_id=actor_id,
        payload={"unit_id": unit.id, "title": fields["title"], "proposer_role": proposer_role},
    )
    return initiative


def review_initiative(
    session: Session,
    *,
    initiative_id: int,
    to_status: str,
    comment: str | None,
    actor_id: int,
    scope_ids: list[int],
    now: dt.datetime | None = None,
) -> Initiative:
    """Move an initiative on: under review, then supported or declined (declining needs a why)."""
    initiative = get_initiative(session, initiative_id)
    if not places.within(session, initiative.unit_id, scope_ids):
        raise NotFound(N_("No such initiative."))
    comment = (comment or "").strip() or None
    if comment and len(comment) > 4000:
        raise DomainError(N_("A text is longer than %(n)s characters."), n=4000)
    step = REVIEW_STEP_TO.get(to_status)
    if step is None or not INITIATIVE.can(initiative, step):
        raise Conflict(N_("The initiative cannot move to this status from its current one."))
    if to_status == "declined" and not comment:
        raise DomainError(N_("Write why the initiative is declined."))
    if initiative.submitted_by_id == actor_id and to_status in ("supported", "declined"):
        raise PermissionDenied(N_("You cannot decide on an initiative you submitted."))
    now = now or utcnow()
    before = initiative.status
    decided = {"decided_by_id": actor_id, "decided_at": now}
    advance(
        session,
        INITIATIVE,
        initiative,
        step,
        values=decided if to_status in ("supported", "declined") else None,
    )
    session.add(
        InitiativeComment(
            initiative_id=initiative.id,
            author_id=actor_id,
            body=comment or "",
            to_status=to_status,
            at=now,
        )
    )
    session.flush()
    session.expire(initiative, ["comments"])
    audit.record(
        session,
        action="sober.initiative_review",
        object_type="sober_initiative",
        object_id=initiative.id,
        actor_id=actor_id,
        now=now,
        payload={"from": before, "to": to_status, "comment": comment},
    )
    return initiative


def comment_initiative(
    session: Session,
    *,
    initiative_id: int,
    body: str,
    actor_id: int,
    scope_ids: list[int],
) -> InitiativeComment:
    """Add a comment: by a coordinator of the settlement or by the initiative's author."""
    initiative = get_initiative(session, initiative_id)
    if initiative.submitted_by_id != actor_id and not places.within(
        session, initiative.unit_id, scope_ids
    ):
        raise NotFound(N_("No such initiative."))
    body = _check_text(body, 4000, N_("Write the comment."))
    row = InitiativeComment(initiative_id=initiative.id, author_id=actor_id, body=body)
    session.add(row)
    session.flush()
    session.expire(initiative, ["comments"])
    audit.record(
        session,
        action="sober.initiative_comment",
        object_type="sober_initiative",
        object_id=initiative.id,
        actor_id=actor_id,
        payload={"comment_id": row.id},
    )
    return row


def review_targets(status: str) -> list[str]:
    """Return the statuses a review may move an initiative that is ``status`` to."""
    return [step.target for step in INITIATIVE.steps.values() if status in step.sources]


def can_be_nominated(initiative: Initiative) -> bool:
    """Tell whether the reward commission may be asked to reward the initiative."""
    return initiative.status == "supported"
