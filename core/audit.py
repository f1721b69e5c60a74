"""The tamper-evident audit chain: append-only events linked by SHA-256, and its verification."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Connection,
    ForeignKey,
    Index,
    String,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, defaultload, mapped_column, relationship

from core import iin
from core.db import Base, UTCDateTime, utcnow

GENESIS_HASH = "0" * 64
# One appender at a time on PostgreSQL; the lock is released at COMMIT or ROLLBACK.
ADVISORY_LOCK_KEY = 727001
_SEP = "\x1f"


class AuditEvent(Base):
    """One link of the chain. Rows are never updated or deleted (database triggers refuse it)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        CheckConstraint("seq > 0", name="seq_positive"),
        Index("ix_audit_event_object", "object_type", "object_id"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    # Loaded with the event so a page of the trail names its actors in one query.
    actor = relationship("User", lazy="joined", viewonly=True)

    @property
    def data(self) -> dict:
        """Return the payload as a dict."""
        return json.loads(self.payload)


def _check_no_raw_iin(value, where: str = "payload") -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _check_no_raw_iin(v, f"{where}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_no_raw_iin(v, f"{where}[{i}]")
    elif isinstance(value, str) and iin.IN_TEXT.search(value):
        raise ValueError(f"audit {where} holds a 12-digit number; mask IINs before recording")


def canonical_payload(payload: dict) -> str:
    """Serialize a payload deterministically (sorted keys, no spaces, UTF-8 kept)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _epoch_us(at: dt.datetime) -> int:
    delta = at.astimezone(dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def compute_hash(
    *,
    prev_hash: str,
    seq: int,
    at: dt.datetime,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str | None,
    payload: str,
) -> str:
    """Return the link hash: SHA-256 of the previous hash and the event's canonical bytes.

    Time enters as UTC epoch microseconds so the result does not depend on time zones.
    """
    canon = _SEP.join(
        [
            str(seq),
            str(_epoch_us(at)),
            "" if actor_id is None else str(actor_id),
            action,
            object_type,
            object_id or "",
            payload,
        ]
    )
    return hashlib.sha256((prev_hash + canon).encode("utf-8")).hexdigest()


@functools.cache
def actor_name():
    """The loader option for a list of events: each actor's name only.

    The account's own eager loading (its home unit joined, its grants in a query of their own)
    was a join and a query more for every page with a trail or a log (issue 16); they still
    load if ever read. Built on first use: the account model is mapped after this module.
    """
    return defaultload(AuditEvent.actor).lazyload("*")


# The chain's last event, read before each append: built once (every state change appends,
# and building the select cost a tenth of an append in the suite's profile, issue 16).
_HEAD = select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
_LOCK = text("SELECT pg_advisory_xact_lock(:k)")


def head(session: Session) -> tuple[int | None, str | None]:
    """Return the chain's head as it is now: the last event's sequence number and hash."""
    found = session.execute(_HEAD).first()
    return (found.seq, found.hash) if found else (None, None)


def take_append_lock(session: Session) -> None:
    """Take the audit chain's append lock now, for the rest of the transaction (PostgreSQL).

    A transaction that locks several rows and audits after each must take this lock before
    its first row lock: otherwise it can hold a row another writer wants while waiting for
    the append lock that writer holds, a deadlock. (SQLite's IMMEDIATE write transaction
    already serializes writers.)
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK, {"k": ADVISORY_LOCK_KEY})


def record(
    session: Session,
    *,
    action: str,
    object_type: str,
    object_id: object = None,
    actor_id: int | None,
    payload: dict | None = None,
    now: dt.datetime | None = None,
) -> AuditEvent:
    """Append an event in the caller's transaction, so it commits or rolls back with the change.

    Appends are serialized: on PostgreSQL by a transaction-scoped advisory lock taken before
    the head is read (READ COMMITTED gives that read a fresh snapshot); on SQLite by the
    write transaction, which begins IMMEDIATE.
    """
    payload = payload or {}
    _check_no_raw_iin(payload)
    body = canonical_payload(payload)
    connection = session.connection()
    transaction = _innermost(connection)
    kept = connection.info.get(_APPENDED)
    if kept is not None and kept[0] is transaction:
        last_seq, last_hash = kept[1], kept[2]
    else:
        take_append_lock(session)
        last_seq, last_hash = head(session)
    seq, prev_hash = (last_seq + 1, last_hash) if last_seq else (1, GENESIS_HASH)
    at = now or utcnow()
    oid = None if object_id is None else str(object_id)
    event = AuditEvent(
        seq=seq,
        at=at,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=oid,
        payload=body,
        prev_hash=prev_hash,
        hash=compute_hash(
            prev_hash=prev_hash,
            seq=seq,
            at=at,
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=oid,
            payload=body,
        ),
    )
    session.add(event)
    session.flush()
    connection.info[_APPENDED] = (transaction, seq, event.hash)
    return event


# ``Connection.info`` key of the last event appended on a database connection, with the
# transaction (or savepoint) it was appended in. That transaction holds the append lock until it
# ends, so no one else can have appended since: its next append needs neither the lock nor the
# head read again (a bulk step appends an event per record; two statements each on PostgreSQL).
# Another transaction, or a savepoint begun or rolled back since, reads the head anew. Kept by
# connection, not by session: sessions sharing a connection share its transaction and its head.
_APPENDED = "core.audit.appended"


def _innermost(connection: Connection):
    """Return the connection's current savepoint, else its transaction."""
    return connection.get_nested_transaction() or connection.get_transaction()


@dataclasses.dataclass(frozen=True)
class ChainReport:
    """The result of verifying the chain."""

    ok: bool
    rows: int
    head_seq: int | None
    head_hash: str | None
    first_bad_seq: int | None = None
    problem: str | None = None  # "hash" (row altered) or "link" (row missing or reordered)

    def as_dict(self) -> dict:
        """Return the report as a JSON-ready dict."""
        return dataclasses.asdict(self)


_LINK_COLUMNS = (
    AuditEvent.seq,
    AuditEvent.at,
    AuditEvent.actor_id,
    AuditEvent.action,
    AuditEvent.object_type,
    AuditEvent.object_id,
    AuditEvent.payload,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


def verify_chain(
    session: Session, *, progress: Callable[[int, int], None] | None = None, batch: int = 2000
) -> ChainReport:
    """Recompute every link and return OK with the head, or the first broken sequence number.

    An edited row fails its own hash; a deleted row breaks the link of the row after it.
    Deleting the tail leaves a valid shorter chain: compare the head with a published one.
    """
    total = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    prev_hash, prev_seq, done = GENESIS_HASH, 0, 0
    last_seq = 0
    while True:
        # Plain rows, not entities: a long chain must not fill the identity map.
        rows = session.execute(
            select(*_LINK_COLUMNS)
            .where(AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            break
        for ev in rows:
            if ev.prev_hash != prev_hash or ev.seq != prev_seq + 1:
                return ChainReport(False, total, None, None, ev.seq, "link")
            expected = compute_hash(
                prev_hash=ev.prev_hash,
                seq=ev.seq,
                at=ev.at,
                actor_id=ev.actor_id,
                action=ev.action,
                object_type=ev.object_type,
                object_id=ev.object_id,
                payload=ev.payload,
            )
            if expected != ev.hash:
                return ChainReport(False, total, None, None, ev.seq, "hash")
            prev_hash, prev_seq = ev.hash, ev.seq
        done += len(rows)
        last_seq = rows[-1].seq
        if progress:
            progress(done, total)
    return ChainReport(True, total, prev_seq or None, None if prev_seq == 0 else prev_hash)


def events_for(session: Session, object_type: str, object_id: object, limit: int = 200):
    """Return the audit trail of one record, newest first, each with its actor."""
    return session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
        .order_by(AuditEvent.seq.desc())
        .limit(limit)
        .options(actor_name())
    ).all()


def recent_events(session: Session, limit: int = 100):
    """Return the newest events of the whole chain."""
    return session.scalars(
        select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit).options(actor_name())
    ).all()
