"""Ten officials taking one hearing step at once (PostgreSQL): one effect, the others a 409."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appeals import hearings
from appeals.models import AppealCounter, Hearing
from core.errors import Conflict
from core.notifications import Notification
from core.scope import Scope
from tests.appeals import test_hearing_review_fixes as rf
from tests.appeals.test_sitting_hearings import _closed_sitting as sitting_case
from tests.conftest import audit_count, engine_of, race
from tests.factories import commission as cf
from tests.factories.volunteers import iin_for, make_member, user
from volunteers.models import Member, MemberStatusChange

# PostgreSQL-only (pg_app): concurrency.
pytestmark = pytest.mark.both_databases

N = 10
ALMATY = ZoneInfo("Asia/Almaty")
NOTICE = dt.datetime(2026, 6, 11, 10, tzinfo=ALMATY)  # Thursday: the act from Tuesday the 16th
ACT_DAY = dt.datetime(2026, 6, 16, 10, tzinfo=ALMATY)


def _member(s: Session, serial: int) -> Member:
    while iin_for(serial)[7:11] != f"{serial:04d}":
        serial += 1
    return make_member(s, serial)


def _registrar(s: Session):
    official = user(s, "registrar@demo.kz")
    return official.id, Scope.of(official, "registrar")


def _hearing(engine, serial: int, *, notify: bool) -> tuple[int, int]:
    with Session(engine) as s:
        member = _member(s, serial)
        official, scope = _registrar(s)
        hearing = hearings.draft(
            s,
            act_kind="suspend",
            subject_id=member.id,
            grounds=["susp_duty_breach"],
            grounds_text="",
            actor_id=official,
            scope=scope,
            now=NOTICE,
        )
        if notify:
            hearings.notify(s, hearing_id=hearing.id, actor_id=official, scope=scope, now=NOTICE)
            # No account, no e-mail: the notice went on paper, received the same day.
            hearings.record_delivery(
                s,
                hearing_id=hearing.id,
                received_on=NOTICE.date(),
                how="by_hand",
                actor_id=official,
                scope=scope,
                now=NOTICE,
            )
        s.commit()
        return hearing.id, member.id


def _run(engine, step):
    def action(i: int):
        with Session(engine) as s:
            official, scope = _registrar(s)
            result = step(s, i, official, scope)
            s.commit()
            return result

    results = race(N, action)
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, Conflict) and r.status == 409 for r in losers), losers
    return winners[0]


def test_ten_drafts_of_one_act_make_one_hearing(pg_app):
    engine = engine_of(pg_app)
    with Session(engine) as s:
        member_id = _member(s, 8401).id
        s.commit()

    def draft(s, i, official, scope):
        return hearings.draft(
            s,
            act_kind="expel",
            subject_id=member_id,
            grounds=["expel_repeated_breach"],
            grounds_text=f"#{i}",
            actor_id=official,
            scope=scope,
            now=NOTICE,
        ).id

    hearing_id = _run(engine, draft)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Hearing)) == 1
        assert audit_count(s, "hearing.draft", "hearing", hearing_id) == 1


def test_ten_notices_notify_once(pg_app):
    engine = engine_of(pg_app)
    hearing_id, _member_id = _hearing(engine, 8411, notify=False)

    def notify(s, i, official, scope):
        return hearings.notify(
            s, hearing_id=hearing_id, actor_id=official, scope=scope, now=NOTICE
        ).status

    assert _run(engine, notify) == "notified"
    with Session(engine) as s:
        assert audit_count(s, "hearing.notify", "hearing", hearing_id) == 1
        assert (
            s.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.kind == "hearing_notice")
            )
            <= 1
        )  # the member has no account or e-mail here: the notice goes on paper


def test_ten_adoptions_adopt_once_execute_once_and_take_one_number(pg_app):
    engine = engine_of(pg_app)
    hearing_id, member_id = _hearing(engine, 8421, notify=True)

    def adopt(s, i, official, scope):
        return hearings.adopt(
            s,
            hearing_id=hearing_id,
            act_reasons=f"Кезекшілікке келмеді ({i})",
            actor_id=official,
            scope=scope,
            now=ACT_DAY,
        ).act_number

    assert _run(engine, adopt) == "2026-00001"
    with Session(engine) as s:
        assert s.get(Member, member_id).status == "suspended"
        assert audit_count(s, "hearing.adopt", "hearing", hearing_id) == 1
        assert audit_count(s, "member.suspended", "member", member_id) == 1
        changes = s.scalar(
            select(func.count())
            .select_from(MemberStatusChange)
            .where(MemberStatusChange.member_id == member_id)
        )
        assert changes == 2  # created active, then suspended once
        assert s.scalar(select(AppealCounter.last).where(AppealCounter.kind == "act")) == 1


def test_ten_withdrawals_withdraw_once(pg_app):
    engine = engine_of(pg_app)
    hearing_id, member_id = _hearing(engine, 8431, notify=True)

    def withdraw(s, i, official, scope):
        return hearings.withdraw(
            s, hearing_id=hearing_id, reason=f"Қате ({i})", actor_id=official, scope=scope
        ).status

    assert _run(engine, withdraw) == "withdrawn"
    with Session(engine) as s:
        assert audit_count(s, "hearing.withdraw", "hearing", hearing_id) == 1
        assert s.get(Member, member_id).status == "active"


def test_adoptions_racing_withdrawals_have_one_winner(pg_app):
    engine = engine_of(pg_app)
    hearing_id, member_id = _hearing(engine, 8441, notify=True)

    def either(s, i, official, scope):
        if i % 2:
            return hearings.withdraw(
                s, hearing_id=hearing_id, reason="Қате", actor_id=official, scope=scope
            ).status
        return hearings.adopt(
            s,
            hearing_id=hearing_id,
            act_reasons="Кезекшілікке келмеді",
            actor_id=official,
            scope=scope,
            now=ACT_DAY,
        ).status

    outcome = _run(engine, either)
    with Session(engine) as s:
        hearing = s.get(Hearing, hearing_id)
        assert hearing.status == outcome
        member = s.get(Member, member_id)
        assert member.status == ("suspended" if outcome == "adopted" else "active")
        done = audit_count(s, "hearing.adopt", "hearing", hearing_id) + audit_count(
            s, "hearing.withdraw", "hearing", hearing_id
        )
        assert done == 1


# ---- the steps added after review R1 (paper delivery, sitting reasons, oral vs act) ----


def _paper_hearing(engine) -> int:
    with Session(engine) as s:
        hearing = rf._hearing(s)
        s.commit()
        return hearing.id


def test_ten_recorded_deliveries_record_once(pg_app):
    engine = engine_of(pg_app)
    hearing_id = _paper_hearing(engine)

    def deliver(i: int):
        with Session(engine) as s:
            official, scope = rf.registrar(s)
            hearings.record_delivery(
                s,
                hearing_id=hearing_id,
                received_on=rf.MON if i % 2 else rf.FRI,
                how="post",
                actor_id=official.id,
                scope=scope,
                now=rf.at(rf.TUE),
            )
            s.commit()
            return i

    results = race(10, deliver)
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, Conflict) and r.status == 409 for r in results if r not in winners)
    with Session(engine) as s:
        assert audit_count(s, "hearing.delivery", "hearing", hearing_id) == 1
        hearing = s.get(Hearing, hearing_id)
        assert hearing.delivered_on == (rf.MON if winners[0] % 2 else rf.FRI)


def test_ten_reasons_of_a_sitting_hearing_race_to_one_text_each_audited(pg_app):
    engine = engine_of(pg_app)
    with Session(engine) as s:
        setup, sitting, _unfunded, refused = sitting_case(s)
        drafted = hearings.draft_for_sitting(
            s, sitting_id=sitting.id, actor_id=setup.users["secretary"], now=cf.NOW
        )
        target = next(h for h in drafted if h.subject_id == refused.id).id
        secretary, unit = setup.users["secretary"], setup.unit_id
        s.commit()

    def state(i: int):
        with Session(engine) as s:
            hearings.set_sitting_hearing_reasons(
                s,
                hearing_id=target,
                reasons=f"Қаралды {i}",
                actor_id=secretary,
                scope=Scope.within([unit]),
            )
            s.commit()
            return i

    results = race(10, state)
    assert not [r for r in results if isinstance(r, Exception)], results
    with Session(engine) as s:
        assert audit_count(s, "hearing.reasons", "hearing", target) == 10
        assert s.get(Hearing, target).stated_reasons in {f"Қаралды {i}" for i in range(10)}


def test_an_oral_request_racing_adoptions_never_leaves_an_unheard_act(pg_app):
    engine = engine_of(pg_app)
    with Session(engine) as s:
        person = rf.citizen(s)
        hearing_id, person_id = rf._hearing(s, person=person).id, person.id
        s.commit()

    def either(i: int):
        with Session(engine) as s:
            if i == 0:
                hearings.request_oral(
                    s, hearing_id=hearing_id, actor_id=person_id, now=rf.at(rf.FRI)
                )
            else:
                rf._adopt(s, s.get(Hearing, hearing_id), rf.TUE)
            s.commit()
            return i

    results = race(10, either)
    assert all(isinstance(r, int) or r.status == 409 for r in results), results
    with Session(engine) as s:
        hearing = s.get(Hearing, hearing_id)
        assert not (hearing.status == "adopted" and hearing.oral_requested_at is not None)
        assert audit_count(s, "hearing.adopt", "hearing", hearing_id) <= 1


def test_ten_act_receipts_record_once(pg_app):
    engine = engine_of(pg_app)
    with Session(engine) as s:
        hearing_id = rf._adopt(s, rf._hearing(s, person=rf.citizen(s)), rf.TUE).id
        s.commit()

    def receive(i: int):
        with Session(engine) as s:
            official, scope = rf.registrar(s)
            hearings.record_act_receipt(
                s,
                hearing_id=hearing_id,
                received_on=rf.WED,
                actor_id=official.id,
                scope=scope,
                now=rf.at(rf.LATER),
            )
            s.commit()
            return i

    results = race(10, receive)
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, Conflict) and r.status == 409 for r in results if r not in winners)
    with Session(engine) as s:
        assert audit_count(s, "hearing.act_receipt", "hearing", hearing_id) == 1


def test_ten_protocols_of_one_oral_hearing_record_one(pg_app):
    engine = engine_of(pg_app)
    hearing_id, _member_id = _hearing(engine, 8471, notify=True)
    held = NOTICE + dt.timedelta(days=1)

    def protocol(s, i, official, scope):
        return hearings.record_protocol(
            s,
            hearing_id=hearing_id,
            held_at=held,
            mode="in_person",
            attendees="Registrar; the member",
            body=f"Heard #{i}",
            actor_id=official,
            scope=scope,
            now=held,
        ).id

    _run(engine, protocol)
    with Session(engine) as s:
        assert s.get(Hearing, hearing_id).status == "heard"
        assert audit_count(s, "hearing.protocol", "hearing", hearing_id) == 1
