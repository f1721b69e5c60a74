"""Bulk import of the existing paper register from CSV or XLSX, row by row with a report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from core import accounts, audit, outputs, places
from core.cell_text import header_key, read_date
from core.db import utcnow
from core.errors import N_, DomainError
from core.iin import InvalidIIN, age_on, mask_iin, parse_iin
from core.scope import Scope
from core.spreadsheets import FORMULA_STARTS, Table, check_upload
from core.spreadsheets import read_table as read_spreadsheet
from volunteers import enrolment, persons, register
from volunteers.models import KINDS, Application, Consent, Member, MemberStatusChange

NAME_MAX, ADDRESS_MAX = 200, 400
COLUMNS = ("iin", "full_name", "kind", "kato", "phone", "email", "address", "issued_on")
REQUIRED = ("iin", "full_name", "kind", "kato", "address")
# The columns' names a register may carry, in Kazakh, Russian and English first (the
# template's headers), then as officials write them. Fixed data, not catalog entries: a
# file filled in under one language imports under any other.
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "iin": ("ЖСН", "ИИН", "IIN", "ЖСН/ИИН", "ИИН/ЖСН"),
    "full_name": (
        "Тегі, аты, әкесінің аты",
        "Фамилия, имя, отчество",
        "Full name",
        "Аты-жөні",
        "ФИО",
        "Т.А.Ә.",
        "Name",
    ),
    "kind": ("Түрі", "Вид", "Type", "Kind", "Тип"),
    "kato": (
        "Елді мекеннің ҚАТО коды",
        "Код КАТО населённого пункта",
        "Settlement KATO code",
        "ҚАТО",
        "КАТО",
        "ҚАТО коды",
        "Код КАТО",
        "KATO",
    ),
    "phone": ("Телефон", "Телефон", "Phone", "Телефон нөмірі", "Номер телефона"),
    "email": ("Электрондық пошта", "Электронная почта", "E-mail", "Email"),
    "address": ("Мекенжайы", "Адрес", "Address", "Мекенжай"),
    "issued_on": (
        "Куәлік берілген күні",
        "Дата выдачи удостоверения",
        "Certificate issue date",
        "Берілген күні",
        "Дата выдачи",
        "Issue date",
        "Issued on",
    ),
}
# The kinds as the portal's pages name them (the same msgids as portal.labels).
KIND_NAMES = {
    "public_assistant": N_("Public assistant"),
    "patrol_member": N_("Volunteer-patrol member"),
}
LANGUAGES = ("kk", "ru", "en")
AUDIT_CHUNK = 500
CHUNK = 1000
# A number Excel shows in scientific notation lost its last digits when saved as text.
_SCIENTIFIC = re.compile(r"\d+(?:[.,]\d+)?[eE]\+?\d+")


class RowError(DomainError):
    """A row cannot be imported because of what one of its columns holds."""

    def __init__(self, column: str, message: str, **params):
        super().__init__(message, **params)
        self.column = column


@dataclasses.dataclass(frozen=True)
class Problem:
    """A row not imported: its number, why (a msgid and its values), the column, the row."""

    number: int
    message: str
    params: dict
    column: str = ""  # the column's code, "" when the row as a whole is at fault
    values: dict[str, str] = dataclasses.field(default_factory=dict)  # as read, unmasked


@dataclasses.dataclass
class ImportReport:
    """What an import did: counts and one problem per row that was not imported."""

    read: int = 0  # the file's data rows: no header, no blank rows
    imported: int = 0
    duplicates: int = 0
    # The portal translates the problems' messages for the report and the page.
    problems: list[Problem] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        """The counts; every row read is imported, a duplicate or rejected, exactly once."""
        return {
            "read": self.read,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": len(self.problems) - self.duplicates,
        }


@dataclasses.dataclass(frozen=True)
class Kinds:
    """The kinds as a file may name them: codes, and the pages' labels in kk, ru and en."""

    by_name: Mapping[str, str]
    shown: str  # the labels in the reader's language, for the message of an unknown kind

    @classmethod
    def named(cls, labels: Mapping[str, Mapping[str, str]], language: str) -> Kinds:
        """Build from ``labels[language][code]``, the pages' labels in each language."""
        by_name = {header_key(code): code for code in KINDS}
        for per_language in labels.values():
            by_name.update({header_key(label): code for code, label in per_language.items()})
        shown = labels.get(language) or {code: code for code in KINDS}
        return cls(by_name, " / ".join(shown[code] for code in KINDS))


CODES_ONLY = Kinds({header_key(code): code for code in KINDS}, " / ".join(KINDS))


def check_file(content: bytes, filename: str) -> None:
    """Refuse a register file by the cheap checks an upload request can afford."""
    check_upload(content, filename, columns=COLUMNS, required=REQUIRED, aliases=COLUMN_NAMES)


def read_table(content: bytes, filename: str) -> Table:
    """Read the rows of a register file, CSV or XLSX, as text (IINs keep their leading zeros).

    An IIN that Excel stored as a number gets back the zeros it lost in front.
    """
    return read_spreadsheet(
        content, filename, columns=COLUMNS, required=REQUIRED, pad={"iin": 12}, aliases=COLUMN_NAMES
    )


def masked(values: Mapping[str, str]) -> dict[str, str]:
    """Return a row's values as a report or a job's stored result may hold them.

    The IIN is masked as everywhere; the phone, e-mail and address, which the register keeps
    sealed, are masked too, so the problem list never stores them in clear. The operator finds
    the row by its number in the file they uploaded.
    """
    iin = values.get("iin", "")
    shown = {**values, "iin": mask_iin(iin) if iin else ""}
    if "phone" in values:
        shown["phone"] = outputs.mask_phone(values["phone"])
    if "email" in values:
        shown["email"] = outputs.mask_email(values["email"])
    if values.get("address"):
        shown["address"] = "•••"
    return shown


def _iin_text(text: str) -> str:
    """The IIN as typed, less spaces; 11 digits get back the zero a spreadsheet dropped."""
    value = "".join(text.split())
    if _SCIENTIFIC.fullmatch(value):
        raise RowError(
            "iin",
            N_(
                "The IIN was saved as a rounded number (%(value)s): format the column as text "
                "and type the IIN again."
            ),
            value=value[:20],
        )
    return "0" + value if len(value) == 11 and value.isdigit() else value


def _issue_date(text: str, today: dt.date) -> dt.date:
    if not text:
        return today
    try:
        issued = read_date(text)
    except ValueError:
        raise RowError(
            "issued_on",
            N_("The issue date %(value)s is not a date: write it as DD.MM.YYYY."),
            value=text[:20],
        ) from None
    if issued > today:
        raise RowError("issued_on", N_("The issue date is in the future."))
    return issued


def _check_row(row, units_by_kato, in_scope, today, kinds: Kinds):
    """Return the row's IIN, kind, unit, issue date, phone and e-mail, or raise ``RowError``."""
    for key, value in row.items():
        # A phone starts with "+"; anything else so would run as a formula where it is shown.
        if value.startswith(FORMULA_STARTS) and not (key == "phone" and value.startswith("+")):
            raise RowError(key, N_("The cell starts like a formula (=, +, -, @)."))
    try:
        parsed = parse_iin(_iin_text(row["iin"]))
    except InvalidIIN as exc:
        raise RowError("iin", exc.message, **exc.params) from None
    if age_on(parsed, today) < enrolment.MIN_AGE:
        raise RowError(
            "iin", N_("Applicants must be at least %(n)s years old."), n=enrolment.MIN_AGE
        )
    kind = kinds.by_name.get(header_key(row["kind"]))
    if kind is None:
        raise RowError(
            "kind",
            N_("Unknown kind %(kind)s: write one of %(kinds)s."),
            kind=row["kind"][:40],
            kinds=kinds.shown,
        )
    kato = "".join(row["kato"].split())
    unit = units_by_kato.get(kato)
    if unit is None or unit.level not in enrolment.APPLY_LEVELS:
        raise RowError("kato", N_("Unknown settlement KATO code %(kato)s."), kato=kato[:20])
    if in_scope is not None and unit.id not in in_scope:
        raise RowError(
            "kato", N_("The settlement %(kato)s is outside your jurisdiction."), kato=kato
        )
    for column in ("full_name", "address"):
        if not row[column]:
            raise RowError(column, N_("The full name and the address are required."))
    # The columns' lengths, as the application form holds them (a longer one was a database
    # error on PostgreSQL that failed the rest of the file).
    if len(" ".join(row["full_name"].split())) > NAME_MAX:
        raise RowError(
            "full_name", N_("The full name is longer than %(n)s characters."), n=NAME_MAX
        )
    if len(" ".join(row["address"].split())) > ADDRESS_MAX:
        raise RowError("address", N_("The address is longer than %(n)s characters."), n=ADDRESS_MAX)
    issued = _issue_date(row["issued_on"], today)
    try:
        phone = accounts.normalize_phone(row["phone"])
    except DomainError as exc:
        raise RowError("phone", exc.message, **exc.params) from None
    try:
        email = accounts.normalize_email(row["email"])
    except DomainError as exc:
        raise RowError("email", exc.message, **exc.params) from None
    return parsed, kind, unit, issued, phone, email


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
    kinds: Kinds = CODES_ONLY,
) -> ImportReport:
    """Import valid rows as registered members; skip those already in the register.

    Running it again on the same file creates nothing twice: every (IIN, kind) already live
    is reported as a duplicate. ``numbers`` are the rows' numbers in the file (by default
    2, 3, ...); a job importing a file in chunks passes each chunk with the same ``report``.
    ``kinds`` names the kinds as the file may (by default their codes only).
    """
    report = ImportReport() if report is None else report
    report.read += len(rows)
    consent = enrolment.current_consent(session, today)
    units_by_kato = {u.kato: u for u in session.scalars(select(places.AdminUnit))}
    # The ids of every unit in the scope (None: everywhere), so each row is checked in memory.
    covered = scope.unit_ids_covered(session)
    in_scope = None if covered is None else set(covered)
    checked = []
    # Row 1 is the header, unless the file says otherwise.
    for number, row in zip(numbers or range(2, len(rows) + 2), rows, strict=True):
        try:
            parsed, kind, unit, issued, phone, email = _check_row(
                row, units_by_kato, in_scope, today, kinds
            )
        except RowError as exc:
            report.problems.append(Problem(number, exc.message, exc.params, exc.column, row))
            continue
        checked.append((number, row, {**row, "kind": kind}, parsed, unit, issued, phone, email))
    # People are compared by their IIN's blind index: the IIN itself is sealed (core.sealing).
    key_list = list({(persons.key_of(c[3].value), c[2]["kind"]) for c in checked})
    live = set()
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
    for number, original, row, parsed, unit, issued, phone, email in checked:
        key = (persons.key_of(parsed.value), row["kind"])
        if key in live:
            report.duplicates += 1
            report.problems.append(
                Problem(number, N_("Already in the register: skipped."), {}, "", original)
            )
            continue
        live.add(key)
        valid.append((row, parsed, unit, issued, phone, email))
    report.problems.sort(key=lambda problem: problem.number)
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


def problem_report_xlsx(
    problems: Sequence[Problem],
    *,
    translate: Callable[[str, dict], str],
    headers: Mapping[str, str],
    titles: tuple[str, str, str, str],
    mask: Callable[[Mapping[str, str]], Mapping[str, str]] = dict,
) -> bytes:
    """Return the rows not imported as a workbook: row, column, problem and the row as read.

    ``headers`` are the file's column names by code, ``titles`` the sheet's title and the
    first three columns' names in the reader's language; ``mask`` hides identifiers.
    """
    book = outputs.XlsxBook()
    book.sheet(titles[0])
    book.row([*titles[1:], *headers.values()])
    for problem in problems:
        values = mask(problem.values)
        book.row(
            [
                problem.number,
                headers.get(problem.column, ""),
                translate(problem.message, problem.params),
                *(values.get(code, "") for code in headers),
            ]
        )
    return book.to_bytes()
