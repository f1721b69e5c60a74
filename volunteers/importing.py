"""Bulk import of the existing paper register from CSV or XLSX, row by row with a report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections import Counter
from collections.abc import Callable, Sequence

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from core import accounts, audit, outputs, places
from core.db import utcnow
from core.errors import N_, DomainError
from core.iin import InvalidIIN, age_on, parse_iin
from core.scope import Scope
from core.spreadsheets import Table, check_upload, refuse_formulas
from core.spreadsheets import read_table as read_spreadsheet
from volunteers import enrolment, persons, register
from volunteers.models import KINDS, Application, Consent, Member, MemberStatusChange

NAME_MAX, ADDRESS_MAX = 200, 400
COLUMNS = ("iin", "full_name", "kind", "kato", "phone", "email", "address", "issued_on")
REQUIRED = ("iin", "full_name", "kind", "kato", "address")
AUDIT_CHUNK = 500
CHUNK = 1000


@dataclasses.dataclass
class ImportReport:
    """What an import did: counts and one line per row that was not imported."""

    imported: int = 0
    duplicates: int = 0
    # (row number, msgid, params): the portal translates them for the report
    problems: list[tuple[int, str, dict]] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": len(self.problems),
        }


def check_file(content: bytes, filename: str) -> None:
    """Refuse a register file by the cheap checks an upload request can afford."""
    check_upload(content, filename, columns=COLUMNS, required=REQUIRED)


def read_table(content: bytes, filename: str) -> Table:
    """Read the rows of a register file, CSV or XLSX, as text (IINs keep their leading zeros).

    An IIN that Excel stored as a number gets back the zeros it lost in front.
    """
    return read_spreadsheet(content, filename, columns=COLUMNS, required=REQUIRED, pad={"iin": 12})


def _check_row(session, row, units_by_kato, in_scope, today):
    refuse_formulas(row, lambda key, value: key == "phone" and value.startswith("+"))
    parsed = parse_iin(row["iin"])
    if age_on(parsed, today) < enrolment.MIN_AGE:
        raise DomainError(N_("Applicants must be at least %(n)s years old."), n=enrolment.MIN_AGE)
    if row["kind"] not in KINDS:
        raise DomainError(
            N_("Unknown kind %(kind)s: use public_assistant or patrol_member."),
            kind=row["kind"][:40],
        )
    unit = units_by_kato.get(row["kato"])
    if unit is None or unit.level not in enrolment.APPLY_LEVELS:
        raise DomainError(N_("Unknown settlement KATO code %(kato)s."), kato=row["kato"][:20])
    if in_scope is not None and unit.id not in in_scope:
        raise DomainError(
            N_("The settlement %(kato)s is outside your jurisdiction."), kato=row["kato"]
        )
    if not row["full_name"] or not row["address"]:
        raise DomainError(N_("The full name and the address are required."))
    # The columns' lengths, as the application form holds them (a longer one was a database
    # error on PostgreSQL that failed the rest of the file).
    if len(" ".join(row["full_name"].split())) > NAME_MAX:
        raise DomainError(N_("The full name is longer than %(n)s characters."), n=NAME_MAX)
    if len(" ".join(row["address"].split())) > ADDRESS_MAX:
        raise DomainError(N_("The address is longer than %(n)s characters."), n=ADDRESS_MAX)
    issued = today
    if row["issued_on"]:
        try:
            issued = dt.date.fromisoformat(row["issued_on"][:10])
        except ValueError:
            raise DomainError(N_("The issue date must be written as YYYY-MM-DD.")) from None
        if issued > today:
            raise DomainError(N_("The issue date is in the future."))
    phone = accounts.normalize_phone(row["phone"])
    email = accounts.normalize_email(row["email"])
    return parsed, unit, issued, phone, email


def import_rows(
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
    """Import valid rows as registered members; skip those already in the register.

    Running it again on the same file creates nothing twice: every (IIN, kind) already live
    is reported as a duplicate. ``numbers`` are the rows' numbers in the file (by default
    2, 3, ...); a job importing a file in chunks passes each chunk with the same ``report``.
    """
    report = ImportReport() if report is None else report
    consent = enrolment.current_consent(session, today)
    units_by_kato = {u.kato: u for u in session.scalars(select(places.AdminUnit))}
    # The ids of every unit in the scope (None: everywhere), so each row is checked in memory.
    covered = scope.unit_ids_covered(session)
    in_scope = None if covered is None else set(covered)
    # People are compared by their IIN's blind index: the IIN itself is sealed (core.sealing).
    keys = {(persons.key_of(r["iin"].strip()), r["kind"]) for r in rows if r["iin"].strip()}
    live = set()
    key_list = list(keys)
    for start in range(0, len(key_list), 500):
        live.update(
            session.execute(
                select(Application.iin_index, Application.kind).where(
                    Application.live,
                    tuple_(Application.iin_index, Application.kind).in_(
                        key_list[start : start + 500]
                    ),
                )
            ).all()
        )
    valid = []
    # Row 1 is the header, unless the file says otherwise.
    for number, row in zip(numbers or range(2, len(rows) + 2), rows, strict=True):
        try:
            parsed, unit, issued, phone, email = _check_row(
                session, row, units_by_kato, in_scope, today
            )
        except (InvalidIIN, DomainError) as exc:
            report.problems.append((number, exc.message, exc.params))
            continue
        key = (persons.key_of(parsed.value), row["kind"])
        if key in live:
            report.duplicates += 1
            report.problems.append((number, N_("Already in the register: skipped."), {}))
            continue
        live.add(key)
        valid.append((row, parsed, unit, issued, phone, email))
    if progress:
        progress(10, "")
    # Per settlement: the akimat that issues and the validity; per akimat and year: one
    # reservation of consecutive certificate numbers for all its rows.
    issuers, validity = {}, {}
    for _row, _parsed, unit, _issued, _phone, _email in valid:
        if unit.id not in issuers:
            issuers[unit.id] = register.issuing_unit(session, unit)
            validity[unit.id] = register.validity_months(session, unit)
    wanted = Counter((issuers[v[2].id].id, v[3].year) for v in valid)
    by_id = {u.id: u for u in issuers.values()}
    next_seq = {
        (issuer_id, year): register.reserve_certificate_numbers(
            session, by_id[issuer_id], year, count
        )
        for (issuer_id, year), count in sorted(wanted.items())
    }
    created: list[int] = []
    app_table, member_table = Application.__table__, Member.__table__
    for start in range(0, len(valid), CHUNK):
        chunk = valid[start : start + CHUNK]
        now = utcnow()
        # Plain executemany per table and chunk, then the new ids read back by their natural
        # keys: INSERT ... RETURNING in parameter order is row-at-a-time on SQLite.
        session.execute(
            insert(app_table),
            [
                {
                    "kind": row["kind"],
                    "status": "registered",
                    "live": True,
                    "unit_id": unit.id,
                    "applicant_id": None,
                    "entered_by_id": actor_id,
                    "channel": "import",
                    "iin": parsed.value,
                    "iin_index": persons.key_of(parsed.value),
                    "full_name": " ".join(row["full_name"].split()),
                    "birth_date": parsed.birth_date,
                    "phone": phone,
                    "email": email,
                    "address": " ".join(row["address"].split()),
                    "is_citizen": True,
                    "no_criminal_record": True,
                    "not_on_register": True,
                    "submitted_at": now,
                    "police_due_on": issued,
                    "check_outcome": "passed",
                    "registered_at": now,
                }
                for row, parsed, unit, issued, phone, email in chunk
            ],
        )
        # (IIN, kind) is unique among live applications, so it names the new rows exactly.
        app_id_of = dict(
            ((key, kind), app_id)
            for app_id, key, kind in session.execute(
                select(app_table.c.id, app_table.c.iin_index, app_table.c.kind).where(
                    app_table.c.live,
                    tuple_(app_table.c.iin_index, app_table.c.kind).in_(
                        [(persons.key_of(v[1].value), v[0]["kind"]) for v in chunk]
                    ),
                )
            )
        )
        member_rows = []
        for row, parsed, unit, issued, _phone, _email in chunk:
            issuer = issuers[unit.id]
            seq_key = (issuer.id, issued.year)
            seq, next_seq[seq_key] = next_seq[seq_key], next_seq[seq_key] + 1
            member_rows.append(
                {
                    "application_id": app_id_of[(persons.key_of(parsed.value), row["kind"])],
                    "kind": row["kind"],
                    "iin": parsed.value,
                    "iin_index": persons.key_of(parsed.value),
                    "full_name": " ".join(row["full_name"].split()),
                    "unit_id": unit.id,
                    "certificate_no": register.certificate_number(issuer, issued.year, seq),
                    "verify_token": secrets.token_urlsafe(18),
                    "issued_on": issued,
                    "expires_on": register.add_months(issued, validity[unit.id]),
                    "status": "active",
                    "created_at": now,
                }
            )
        session.execute(insert(member_table), member_rows)
        member_ids = session.scalars(
            select(member_table.c.id)
            .where(member_table.c.application_id.in_(app_id_of.values()))
            .order_by(member_table.c.id)
        ).all()
        session.execute(
            insert(Consent.__table__),
            [
                {
                    "application_id": a,
                    "version": consent.version,
                    "channel": "import",
                    "given_at": now,
                    "withdrawn_at": None,
                    "withdrawal_channel": None,
                }
                for a in app_id_of.values()
            ],
        )
        session.execute(
            insert(MemberStatusChange.__table__),
            [
                {
                    "member_id": m,
                    "from_status": None,
                    "to_status": "active",
                    "reason": "import",
                    "actor_id": actor_id,
                    "at": now,
                }
                for m in member_ids
            ],
        )
        created.extend(member_ids)
        report.imported += len(member_ids)
        if progress:
            progress(10 + int((start + len(chunk)) * 85 / max(len(valid), 1)), "")
    for start in range(0, len(created), AUDIT_CHUNK):
        chunk = created[start : start + AUDIT_CHUNK]
        audit.record(
            session,
            action="import.members",
            object_type="member_import",
            object_id=chunk[0],
            actor_id=actor_id,
            payload={"member_ids": chunk, "count": len(chunk)},
        )
    return report


def error_report_csv(
    report: ImportReport, translate: Callable[[str, dict], str], header: tuple[str, str]
) -> bytes:
    """Return the rows that were not imported as a CSV safe to open in a spreadsheet."""
    rows = [(number, translate(message, params)) for number, message, params in report.problems]
    return outputs.csv_bytes([header, *rows], quote_all=True)
