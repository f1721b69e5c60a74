"""The audit chain: appends, verification, tamper detection, append-only triggers."""

from __future__ import annotations

import contextlib

import pytest
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core import audit
from portal.database import read_only
from portal.extensions import db
from tests.conftest import engine_of, race

# Both databases: the audit chain's lock and hashes.
pytestmark = pytest.mark.both_databases


def _append(session, n):
    for i in range(n):
        audit.record(
            session,
            action="test.event",
            object_type="test",
            object_id=i,
            actor_id=None,
            payload={"i": i, "text": "Қазақ мәтіні"},
        )
    session.commit()


def _tamper(session, sql):
    """Change the table as a database superuser would: with the triggers out of the way."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        session.execute(text(sql))
        session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    else:
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text("DROP TRIGGER audit_event_no_delete"))
        session.execute(text(sql))
    session.commit()


def test_chain_verifies_and_reports_head(app, session):
    _append(session, 30)
    report = audit.verify_chain(session)
    assert report.ok
    head = session.scalars(text("SELECT hash FROM audit_event ORDER BY seq DESC LIMIT 1")).one()
    assert report.head_hash == head and report.head_seq == report.rows


def test_edited_row_is_reported_at_that_row(app, session):
    _append(session, 30)
    target = audit.verify_chain(session).rows - 10
    _tamper(session, f"UPDATE audit_event SET payload = '[]' WHERE seq = {target}")
    report = audit.verify_chain(session)
    assert not report.ok and report.first_bad_seq == target and report.problem == "hash"


def test_deleted_row_is_reported_at_the_next_row(app, session):
    _append(session, 30)
    target = audit.verify_chain(session).rows - 5
    _tamper(session, f"DELETE FROM audit_event WHERE seq = {target}")
    report = audit.verify_chain(session)
    assert not report.ok and report.first_bad_seq == target + 1 and report.problem == "link"


def test_cli_verify_prints_ok_or_the_broken_seq(app, session):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and ok.output.startswith("OK rows=")
    _tamper(session, "UPDATE audit_event SET action = 'forged' WHERE seq = 3")
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and "BROKEN at seq 3 (hash)" in broken.output


@pytest.mark.parametrize(
    "sql",
    ["UPDATE audit_event SET action = 'x' WHERE seq = 1", "DELETE FROM audit_event WHERE seq = 1"],
)
def test_update_and_delete_are_refused_by_the_database(app, session, sql):
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(sql))
    session.rollback()


def test_truncate_is_refused_on_postgresql(app, session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("TRUNCATE audit_event"))
    session.rollback()


def test_rolled_back_change_leaves_no_event(app, session):
    before = audit.verify_chain(session).rows
    audit.record(session, action="test.event", object_type="test", actor_id=None)
    session.rollback()
    assert audit.verify_chain(session).rows == before


def test_payload_with_a_raw_iin_is_refused(app, session):
    with pytest.raises(ValueError, match="mask IINs"):
        audit.record(
            session,
            action="test.event",
            object_type="test",
            actor_id=None,
            payload={"applicant": {"iin": "900101300017"}},
        )
    with pytest.raises(ValueError, match="mask IINs"):
        audit.record(
            session,
            action="test.event",
            object_type="test",
            actor_id=None,
            payload={"note": "ИИН 900101300017, звонил"},
        )


def test_hashes_with_twelve_digits_in_a_row_are_not_taken_for_iins(app, session):
    # The chain's head hash goes into the verification event; one in five has such a run.
    head = "ab" + "123456789012" + "cd" * 25
    event = audit.record(
        session,
        action="audit.verify",
        object_type="job_run",
        object_id=1,
        actor_id=None,
        payload={"head_hash": head, "checked": 12},
    )
    assert event.data["head_hash"] == head


def _append_at_once(app, action: str, transactions: int, per_transaction: int) -> list[str]:
    """8 writers at once, each committing ``transactions`` transactions of ``per_transaction``
    events; return the events' object ids in chain order, after checking every link.

    On PostgreSQL the writers begin as readers do, without the chain's lock that a writer's
    BEGIN takes (portal.database): the lock ``record`` takes itself is what is tested. (SQLite
    serializes writers at BEGIN IMMEDIATE; a deferred BEGIN would only meet busy errors.)
    """
    postgres = engine_of(app).dialect.name == "postgresql"

    def writer(k: int) -> None:
        with app.app_context(), read_only() if postgres else contextlib.nullcontext():
            try:
                for t in range(transactions):
                    for i in range(per_transaction):
                        audit.record(
                            db.session,
                            action=action,
                            object_type="test",
                            object_id=f"{k}-{t}-{i}",
                            actor_id=None,
                        )
                    db.session.commit()
            finally:
                db.session.remove()

    assert race(8, writer) == [None] * 8  # no writer failed
    with app.app_context():
        report = audit.verify_chain(db.session)
        ids = db.session.scalars(
            text("SELECT object_id FROM audit_event WHERE action = :a ORDER BY seq"), {"a": action}
        ).all()
    assert report.ok and len(ids) == 8 * transactions * per_transaction
    return ids


def test_concurrent_appends_keep_every_link(app):
    """8 writers append at once; the chain must have no broken link (A1 in reliability.md)."""
    _append_at_once(app, "test.concurrent", transactions=25, per_transaction=1)


def test_verification_does_not_depend_on_the_session_time_zone(app, session):
    _append(session, 5)
    expected = audit.verify_chain(session)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET TIME ZONE 'Asia/Almaty'"))
    assert audit.verify_chain(session) == expected


def test_concurrent_transactions_of_several_appends_keep_every_link(app):
    """8 writers at once, each appending 5 events per transaction: a transaction's later
    appends follow its own last event without reading the head again, and no other writer
    slips in between them (the append lock is held to the end of the transaction)."""
    ids = _append_at_once(app, "test.batch", transactions=5, per_transaction=5)
    # Each transaction's five events are consecutive in the chain.
    batches = [ids[i : i + 5] for i in range(0, len(ids), 5)]
    assert all(len({b.rsplit("-", 1)[0] for b in batch}) == 1 for batch in batches)


def test_a_transactions_later_appends_do_not_read_the_head_again(app, session):
    _append(session, 3)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sqlalchemy.event.listen(session.bind, "before_cursor_execute", count)
    try:
        for i in range(4):
            audit.record(
                session, action="test.event", object_type="test", object_id=i, actor_id=None
            )
    finally:
        sqlalchemy.event.remove(session.bind, "before_cursor_execute", count)
    session.commit()
    reads = [s for s in statements if "advisory" in s or s.lstrip().startswith("SELECT")]
    locks = 1 if session.get_bind().dialect.name == "postgresql" else 0
    assert len(reads) == 1 + locks  # the first append's lock and head read only
    assert audit.verify_chain(session).ok


def test_an_append_after_a_rolled_back_savepoint_links_to_the_last_kept_event(app, session):
    _append(session, 2)
    audit.record(session, action="test.kept", object_type="test", actor_id=None)
    savepoint = session.begin_nested()
    audit.record(session, action="test.undone", object_type="test", actor_id=None)
    audit.record(session, action="test.undone", object_type="test", actor_id=None)
    savepoint.rollback()
    audit.record(session, action="test.after", object_type="test", actor_id=None)
    savepoint = session.begin_nested()
    audit.record(session, action="test.released", object_type="test", actor_id=None)
    savepoint.commit()
    audit.record(session, action="test.last", object_type="test", actor_id=None)
    session.commit()
    report = audit.verify_chain(session)
    actions = session.scalars(text("SELECT action FROM audit_event ORDER BY seq")).all()
    assert report.ok and report.rows == len(actions)
    assert actions[-4:] == ["test.kept", "test.after", "test.released", "test.last"]


def test_sessions_sharing_a_connection_follow_each_others_appends(app):
    """Two sessions on one connection share its transaction: each appends after the other's
    event, not after the event it appended itself last."""
    from sqlalchemy.orm import Session

    with engine_of(app).connect() as conn:
        first, second = Session(bind=conn), Session(bind=conn)
        for session in (first, second, first, second):
            audit.record(session, action="test.shared", object_type="test", actor_id=None)
        conn.commit()
        assert audit.verify_chain(first).ok
