"""What each export holds: its filters, its columns (title and cell kind) and its scoped query."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import Select, and_, case, func, select, true

from budget.models import BudgetLine, BudgetProgram, LedgerEntry
from core import clock, places
from core.errors import N_, DomainError
from core.scope import Scope
from incentives.models import AgendaItem, Commission, CommissionSession, Nomination, Payout
from volunteers.models import Member

DATASETS = ("payouts", "decisions", "ledger", "register")
# How a column's cells are written; ``code:<group>`` columns hold codes shown by their labels.
TEXT, INT, MONEY, DATE, TIME, IIN, IBAN = "text", "int", "money", "date", "time", "iin", "iban"


@dataclasses.dataclass(frozen=True)
class Filters:
    """What the screen filtered by: year, jurisdiction and a date range (all optional)."""

    year: int | None = None
    unit_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def __post_init__(self):
        if self.year is not None and not 2000 <= self.year <= 2100:
            raise DomainError(N_("Choose a year between 2000 and 2100."))
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise DomainError(N_("The start of the period is after its end."))

    def as_dict(self) -> dict:
        """Return the filters as JSON-ready values."""
        return {
            "year": self.year,
            "unit_id": self.unit_id,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Filters:
        """Rebuild filters from ``as_dict`` output."""

        def day(value):
            return dt.date.fromisoformat(value) if value else None

        return cls(
            year=data.get("year"),
            unit_id=data.get("unit_id"),
            date_from=day(data.get("date_from")),
            date_to=day(data.get("date_to")),
        )


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Columns (msgid, cell kind) and the query that yields rows in that order."""

    name: str
    title: str
    columns: tuple[tuple[str, str], ...]
    query: Select


def _units(unit_column, scope: Scope, filters: Filters):
    """Limit to the user's jurisdictions and, within them, to the unit chosen on screen."""
    chosen = Scope.within([filters.unit_id]) if filters.unit_id else Scope.everywhere()
    return and_(scope.clause(unit_column), chosen.clause(unit_column))


def _day_range(column, filters: Filters):
    conditions = []
    if filters.date_from:
        conditions.append(column >= filters.date_from)
    if filters.date_to:
        conditions.append(column <= filters.date_to)
    return and_(true(), *conditions)


def _moment_range(column, filters: Filters):
    conditions = []
    if filters.date_from:
        conditions.append(column >= clock.local_day_bounds(filters.date_from)[0])
    if filters.date_to:
        conditions.append(column < clock.local_day_bounds(filters.date_to)[1])
    return and_(true(), *conditions)


def _unit_name(lang: str):
    return places.AdminUnit.name_kk if lang == "kk" else places.AdminUnit.name_ru


def dataset(name: str, *, filters: Filters, scope: Scope, lang: str) -> Dataset:
    """Return the columns and query of export ``name`` under ``filters`` and scope."""
    unit_name = _unit_name(lang)
    if name == "payouts":
        recipient = func.coalesce(Member.full_name, Nomination.recipient_name)
        query = (
            select(
                Payout.id,
                Payout.order_date,
                Payout.order_number,
                Payout.status,
                Payout.amount_tiyn,  # gross: what left the line
                Payout.withheld_tiyn,
                Payout.net_tiyn,
                recipient,
                Member.iin,
                Payout.iban,
                Nomination.form,
                Nomination.year,
                CommissionSession.held_on,
                CommissionSession.act_number,
                unit_name,
                Payout.recorded_at,
            )
            .join(AgendaItem, AgendaItem.id == Payout.item_id)
            .join(Nomination, Nomination.id == AgendaItem.nomination_id)
            .outerjoin(Member, Member.id == Nomination.member_id)
            .join(CommissionSession, CommissionSession.id == AgendaItem.session_id)
            .join(Commission, Commission.id == Nomination.commission_id)
            .join(places.AdminUnit, places.AdminUnit.id == Commission.unit_id)
            .where(
                _units(Commission.unit_id, scope, filters),
                Nomination.year == filters.year if filters.year else true(),
                _day_range(Payout.order_date, filters),
            )
            .order_by(Payout.id)
        )
        columns = (
            (N_("Payout"), INT),
            (N_("Payment order date"), DATE),
            (N_("Payment order"), TEXT),
            (N_("Status"), "code:payout_status"),
            (N_("Amount, tenge"), MONEY),
            (N_("Tax withheld, tenge"), MONEY),
            (N_("Net paid, tenge"), MONEY),
            (N_("Recipient"), TEXT),
            (N_("IIN"), IIN),
            (N_("IBAN"), IBAN),
            (N_("Form of reward"), "code:form"),
            (N_("Year"), INT),
            (N_("Session date"), DATE),
            (N_("Akimat act"), TEXT),
            (N_("Jurisdiction"), TEXT),
            (N_("Recorded at"), TIME),
        )
        return Dataset(name, N_("Payouts"), columns, query)
    if name == "decisions":
        recipient = func.coalesce(Member.full_name, Nomination.recipient_name)
        query = (
            select(
                AgendaItem.id,
                CommissionSession.held_on,
                CommissionSession.status,
                CommissionSession.act_number,
                recipient,
                Member.iin,
                Nomination.form,
                Nomination.amount_tiyn,
                AgendaItem.outcome,
                AgendaItem.votes_for,
                AgendaItem.votes_against,
                AgendaItem.abstained,
                AgendaItem.recused,
                unit_name,
            )
            .join(Nomination, Nomination.id == AgendaItem.nomination_id)
            .outerjoin(Member, Member.id == Nomination.member_id)
            .join(CommissionSession, CommissionSession.id == AgendaItem.session_id)
            .join(Commission, Commission.id == CommissionSession.commission_id)
            .join(places.AdminUnit, places.AdminUnit.id == Commission.unit_id)
            .where(
                AgendaItem.outcome.is_not(None),
                _units(Commission.unit_id, scope, filters),
                Nomination.year == filters.year if filters.year else true(),
                _day_range(CommissionSession.held_on, filters),
            )
            .order_by(AgendaItem.id)
        )
        columns = (
            (N_("Decision"), INT),
            (N_("Session date"), DATE),
            (N_("Session status"), "code:session_status"),
            (N_("Akimat act"), TEXT),
            (N_("Recipient"), TEXT),
            (N_("IIN"), IIN),
            (N_("Form of reward"), "code:form"),
            (N_("Amount, tenge"), MONEY),
            (N_("Outcome"), "code:outcome"),
            (N_("For"), INT),
            (N_("Against"), INT),
            (N_("Abstained"), INT),
            (N_("Recused"), INT),
            (N_("Jurisdiction"), TEXT),
        )
        return Dataset(name, N_("Commission decisions"), columns, query)
    if name == "ledger":
        # Written as on every page (budget.appropriations.code_of): ``03-1-252-003``, the
        # optional sub-program after a dash only when there is one.
        code = (
            BudgetProgram.functional_group
            + "-"
            + BudgetProgram.sub_function
            + "-"
            + BudgetProgram.administrator
            + "-"
            + BudgetProgram.program
            + case(
                (BudgetProgram.sub_program != "", "-" + BudgetProgram.sub_program),
                else_="",
            )
        )
        query = (
            select(
                LedgerEntry.id,
                LedgerEntry.at,
                BudgetProgram.fiscal_year,
                code,
                BudgetLine.purpose,
                LedgerEntry.kind,
                LedgerEntry.amount_tiyn,
                LedgerEntry.reference_type,
                LedgerEntry.reference_id,
                LedgerEntry.note,
                unit_name,
            )
            .join(BudgetLine, BudgetLine.id == LedgerEntry.line_id)
            .join(BudgetProgram, BudgetProgram.id == BudgetLine.program_id)
            .join(places.AdminUnit, places.AdminUnit.id == BudgetProgram.unit_id)
            .where(
                _units(BudgetProgram.unit_id, scope, filters),
                BudgetProgram.fiscal_year == filters.year if filters.year else true(),
                _moment_range(LedgerEntry.at, filters),
            )
            .order_by(LedgerEntry.id)
        )
        columns = (
            (N_("Entry"), INT),
            (N_("Time"), TIME),
            (N_("Year"), INT),
            (N_("Program"), TEXT),
            (N_("Purpose"), "code:purpose"),
            (N_("Movement"), "code:entry_kind"),
            (N_("Amount, tenge"), MONEY),
            (N_("Reference"), TEXT),
            (N_("Reference number"), TEXT),
            (N_("Note"), TEXT),
            (N_("Jurisdiction"), TEXT),
        )
        return Dataset(name, N_("Ledger entries"), columns, query)
    if name == "register":
        query = (
            select(
                Member.certificate_no,
                Member.full_name,
                Member.iin,
                Member.kind,
                Member.status,
                Member.issued_on,
                Member.expires_on,
                unit_name,
            )
            .join(places.AdminUnit, places.AdminUnit.id == Member.unit_id)
            .where(
                _units(Member.unit_id, scope, filters),
                func.extract("year", Member.issued_on) == filters.year if filters.year else true(),
                _day_range(Member.issued_on, filters),
            )
            .order_by(Member.id)
        )
        columns = (
            (N_("Certificate"), TEXT),
            (N_("Full name"), TEXT),
            (N_("IIN"), IIN),
            (N_("Kind"), "code:member_kind"),
            (N_("Status"), "code:member_status"),
            (N_("Issued"), DATE),
            (N_("Valid until"), DATE),
            (N_("Jurisdiction"), TEXT),
        )
        return Dataset(name, N_("Register of members"), columns, query)
    raise DomainError(N_("There is no such export."))
