"""Bulk writing for the scale demo: COPY on PostgreSQL, executemany on SQLite; column lists."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Integer,
    String,
    Text,
    func,
    insert,
    select,
    text,
)
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.types import TypeDecorator

from budget.models import LedgerEntry
from core.db import UTCDateTime
from core.sealing import Sealed, blind_index
from core.search_text import search_key
from incentives.models import (
    AgendaItem,
    Attendance,
    CommissionSession,
    Nomination,
    NominationContribution,
    Payout,
    Vote,
)

CHUNK = 20_000  # rows per COPY or executemany batch


class _Bulk:
    """Writes rows in bulk: COPY on PostgreSQL, executemany in chunks on SQLite.

    Ids are assigned here (the next free ones) so rows can point at each other before they are
    written; on PostgreSQL the tables are locked against other writers for the transaction and
    their sequences are moved past the new rows after each step.
    """

    def __init__(self, session):
        self.session = session
        self.pg = session.get_bind().dialect.name == "postgresql"
        self.next: dict[str, int] = {}
        self._queue: queue.Queue | None = None
        self._writer: threading.Thread | None = None
        self._failure: BaseException | None = None

    def write_soon(self, model, columns: tuple[str, ...], rows: list[tuple]) -> int:
        """Write ``rows`` in order with the others queued; return how many there are.

        On PostgreSQL a thread runs the COPYs while the caller generates the next rows, so the
        server's work (indexes, foreign keys) overlaps Python's instead of following it. The
        caller must not use the session until ``drain()``. SQLite writes at once.
        """
        if not self.pg:
            return self.write(model, columns, rows)
        if self._writer is None:
            self._queue = queue.Queue(maxsize=4)
            # The thread gets the connection itself: the session is the caller's to resolve.
            self._writer = threading.Thread(
                target=self._drain_queue, args=(self._raw(),), daemon=True
            )
            self._writer.start()
        if self._failure is not None:
            self.drain()
        self._queue.put((model, columns, rows))
        return len(rows)

    def _drain_queue(self, raw) -> None:
        while (job := self._queue.get()) is not None:
            if self._failure is None:  # after a failure, keep taking jobs so the caller ends
                try:
                    self._copy(raw, *job)
                except BaseException as exc:
                    self._failure = exc

    def drain(self) -> None:
        """Wait for the queued rows; raise what the writing thread raised, if anything."""
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = self._queue = None
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    def lock(self, *models) -> None:
        """Take the tables for this load and note the first free id of each."""
        session = self.session
        session.flush()
        for model in models:
            table = model.__tablename__
            if self.pg:
                # Other sessions may still read; only writers wait until the load commits.
                session.execute(text(f'LOCK TABLE "{table}" IN SHARE ROW EXCLUSIVE MODE'))
            top = session.scalar(select(func.max(model.__table__.c.id)))
            self.next[table] = (top or 0) + 1

    def ids(self, model, count: int) -> range:
        """Reserve ``count`` ids of the model's table."""
        table = model.__tablename__
        first = self.next[table]
        self.next[table] = first + count
        return range(first, first + count)

    def _raw(self):
        """The psycopg connection of the session's transaction."""
        return self.session.connection().connection.dbapi_connection

    def _copy(self, raw, model, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
        """COPY ``rows`` into the model's table on the psycopg connection ``raw``."""
        table = model.__table__
        names = ", ".join(f'"{c}"' for c in columns)
        done = 0
        # Binary: no text to format here nor to parse on the server.
        statement = f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT BINARY)'
        # COPY skips SQLAlchemy's type processing: sealed columns are sealed here.
        sealers = {
            i: table.c[c].type for i, c in enumerate(columns) if isinstance(table.c[c].type, Sealed)
        }
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            copy.set_types([_pg_type(table.c[c].type) for c in columns])
            for row in rows:
                if sealers:
                    row = list(row)
                    for i, kind in sealers.items():
                        row[i] = kind.process_bind_param(row[i], None)
                copy.write_row(row)
                done += 1
        return done

    def write(self, model, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
        """Write ``rows`` (values in the order of ``columns``) now; return how many."""
        if self.pg:
            return self._copy(self._raw(), model, columns, rows)
        table = model.__table__
        done = 0
        conn = self.session.connection()
        batch = []
        for row in rows:
            batch.append(dict(zip(columns, row, strict=True)))
            if len(batch) == CHUNK:
                conn.execute(insert(table), batch)
                done += len(batch)
                batch = []
        if batch:
            conn.execute(insert(table), batch)
            done += len(batch)
        return done

    def finish(self) -> None:
        """Move each table's id sequence past the rows written (PostgreSQL)."""
        if not self.pg:
            return
        for name in self.next:  # names of the portal's own tables, never input
            rows = sa_table(name, sa_column("id"))
            self.session.execute(
                select(
                    func.setval(func.pg_get_serial_sequence(name, "id"), func.max(rows.c.id))
                ).select_from(rows)
            )


def _pg_type(column_type) -> str:
    """Return the PostgreSQL type name a column's values are sent as in a binary COPY."""
    if isinstance(column_type, UTCDateTime):
        return "timestamptz"
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    for kind, name in (
        (BigInteger, "int8"),
        (Integer, "int4"),
        (Boolean, "bool"),
        (Date, "date"),
        (String, "text"),
        (Text, "text"),
    ):
        if isinstance(column_type, kind):
            return name
    raise TypeError(f"no binary COPY type for {column_type!r}")


def _row(columns: tuple[str, ...], **values) -> tuple:
    """Return the values in the order of ``columns`` (a missing one is a KeyError).

    An IIN's blind index and a name's search key are computed here, as the models' validators
    do for the ORM (a COPY passes no column default either).
    """
    if "iin_index" in columns and "iin_index" not in values:
        values["iin_index"] = blind_index(values["iin"], "iin")
    if "search_name" in columns and "search_name" not in values:
        values["search_name"] = search_key(values["full_name"])
    return tuple(values[c] for c in columns)


PATROL_COLUMNS = ("id", "name", "unit_id", "leader_member_id", "coordinator_id", "created_at")
APPLICATION_COLUMNS = (
    "id",
    "kind",
    "status",
    "live",
    "unit_id",
    "patrol_unit_id",
    "applicant_id",
    "entered_by_id",
    "channel",
    "iin",
    "iin_index",
    "full_name",
    "birth_date",
    "phone",
    "email",
    "address",
    "is_citizen",
    "no_criminal_record",
    "not_on_register",
    "submitted_at",
    "police_due_on",
    "check_by_id",
    "check_outcome",
    "checked_at",
    "refusal_reason",
    "petitioned_at",
    "registration_due_on",
    "registered_at",
    "closed_at",
    "search_name",
)
DECLARED = {"is_citizen": True, "no_criminal_record": True, "not_on_register": True}
_GIVEN = APPLICATION_COLUMNS.index("submitted_at")
_CHANNEL = APPLICATION_COLUMNS.index("channel")
MEMBER_COLUMNS = (
    "id",
    "application_id",
    "user_id",
    "kind",
    "iin",
    "iin_index",
    "full_name",
    "unit_id",
    "certificate_no",
    "verify_token",
    "issued_on",
    "expires_on",
    "status",
    "status_reason",
    "created_at",
    "patrol_unit_id",
    "coordinator_id",
    "search_name",
)
SHIFT_COLUMNS = (
    "id",
    "unit_id",
    "patrol_unit_id",
    "place",
    "starts_at",
    "ends_at",
    "capacity",
    "taken",
    "supervisor_id",
    "status",
    "cancel_reason",
    "series",
    "created_by_id",
    "created_at",
    "closed_at",
)
SIGNUP_COLUMNS = (
    "id",
    "shift_id",
    "member_id",
    "status",
    "starts_at",
    "ends_at",
    "signed_up_at",
    "cancelled_at",
    "checked_in_at",
    "checked_out_at",
    "attendance_by_id",
)
CONTRIBUTION_COLUMNS = (
    "id",
    "member_id",
    "unit_id",
    "kind",
    "occurred_on",
    "minutes",
    "description",
    "reference",
    "status",
    "points",
    "signup_id",
    "corrects_id",
    "logged_by_id",
    "logged_at",
    "decided_by_id",
    "decided_at",
    "rejection_reason",
)
NOMINATION_COLUMNS = (
    "id",
    "commission_id",
    "member_id",
    "initiative_id",
    "recipient_name",
    "recipient_user_id",
    "nominator_id",
    "justification",
    "form",
    "amount_tiyn",
    "entered_in",
    "year",
    "purpose",
    "status",
    "outcome_reason",
    "created_at",
    "submitted_at",
)
SESSION_COLUMNS = (
    "id",
    "commission_id",
    "held_on",
    "place_kk",
    "place_ru",
    "on_paper",
    "status",
    "opened_at",
    "closed_at",
    "quorum_met",
    "act_number",
    "act_date",
    "planned_by_id",
)
LEDGER_COLUMNS = (
    "id",
    "line_id",
    "kind",
    "amount_tiyn",
    "reference_type",
    "reference_id",
    "actor_id",
    "at",
    "idempotency_key",
    "request_hash",
    "note",
)
ITEM_COLUMNS = (
    "id",
    "session_id",
    "nomination_id",
    "position",
    "outcome",
    "outcome_reason",
    "votes_for",
    "votes_against",
    "abstained",
    "recused",
    "ledger_entry_id",
    "line_id",
)
VOTE_COLUMNS = (
    "id",
    "item_id",
    "commission_member_id",
    "choice",
    "reason",
    "automatic",
    "entered_by_id",
    "at",
)
PAYOUT_COLUMNS = (
    "id",
    "item_id",
    "gross_tiyn",
    "withheld_tiyn",
    "net_tiyn",
    "status",
    "iban",
    "order_number",
    "order_date",
    "failure_reason",
    "ledger_entry_id",
    "recorded_by_id",
    "recorded_at",
)
# In the order they are written: every row's parents are in before it.
COMMISSION_TABLES = (
    (Nomination, NOMINATION_COLUMNS),
    (NominationContribution, ("id", "nomination_id", "contribution_id", "approved")),
    (CommissionSession, SESSION_COLUMNS),
    (Attendance, ("id", "session_id", "commission_member_id", "present")),
    (LedgerEntry, LEDGER_COLUMNS),
    (AgendaItem, ITEM_COLUMNS),
    (Vote, VOTE_COLUMNS),
    (Payout, PAYOUT_COLUMNS),
)
