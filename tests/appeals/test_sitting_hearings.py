"""Hearings of a commission's sitting: drafted after closing, the act waits for their terms."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from appeals import documents, hearings
from appeals.models import Hearing
from core.errors import Conflict, DomainError
from core.scope import Scope
from demo.minutes import language
from incentives import sessions
from tests.conftest import audit_count
from tests.factories import commission as cf

pytestmark = pytest.mark.both_databases

# cf.NOW is Thursday 15 October 2026, 11:00 in Almaty: objections until Monday the 19th,
# the act from Tuesday the 20th.
TUESDAY = dt.datetime(2026, 10, 20, 6, 0, tzinfo=dt.UTC)


def _closed_sitting(session):
    # The line holds less than the reward: approved by the vote, deferred for want of funds.
    s = cf.setup(session, approved_tiyn=5 * cf.MCI_2026)
    unfunded_member, unfunded_ids = cf.nominee(session)
    refused_member, refused_ids = cf.nominee(session)
    unfunded = cf.nominate(session, s, unfunded_member, unfunded_ids, mci=10)
    refused = cf.nominate(session, s, refused_member, refused_ids, mci=10)
    sitting = cf.plan_sitting(session, s, [unfunded.id, refused.id])
    cf.open_sitting(session, s, sitting, cf.FOUR)
    for item in sitting.items:
        choice = "for" if item.nomination_id == unfunded.id else "against"
        for label in cf.FOUR:
            sessions.vote(
                session,
                item_id=item.id,
                commission_member_id=s.members[label],
                choice=choice,
                reason=None,
                entered_by_id=s.users[label],
            )
    sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=cf.NOW)
    return s, sitting, unfunded, refused


def test_a_sitting_drafts_notified_hearings_and_its_act_waits_for_their_terms(app, session):
    s, sitting, unfunded, refused = _closed_sitting(session)
    secretary = s.users["secretary"]
    drafted = hearings.draft_for_sitting(
        session, sitting_id=sitting.id, actor_id=secretary, now=cf.NOW
    )
    session.commit()
    assert hearings.draft_for_sitting(session, sitting_id=sitting.id, actor_id=secretary) == []
    by_subject = {h.subject_id: h for h in drafted}
    assert set(by_subject) == {unfunded.id, refused.id}
    assert by_subject[unfunded.id].act_kind == "defer_reward"
    assert by_subject[unfunded.id].grounds == ["defer_budget"]
    assert by_subject[refused.id].act_kind == "refuse_reward"
    assert by_subject[refused.id].grounds == ["reward_commission_vote"]
    assert all(h.status == "notified" and h.sitting_id == sitting.id for h in drafted)
    # The nominees have no account nor e-mail: paper notices, the terms wait for their receipt.
    assert all(h.earliest_act_on is None for h in drafted)
    assert {
        h.id
        for h in hearings.sitting_act_blockers(
            session, sitting_id=sitting.id, today=dt.date(2026, 12, 1)
        )
    } == {h.id for h in drafted}
    for h in drafted:
        hearings.record_delivery(
            session,
            hearing_id=h.id,
            received_on=cf.HELD_ON,
            how="by_hand",
            actor_id=secretary,
            scope=Scope.within([s.unit_id]),
            now=cf.NOW,
        )
    session.commit()
    assert all(h.earliest_act_on == dt.date(2026, 10, 20) for h in drafted)
    assert all(
        h.person_key == n.member.iin_index
        for h, n in zip(
            (by_subject[unfunded.id], by_subject[refused.id]), (unfunded, refused), strict=True
        )
    )

    blockers = hearings.sitting_act_blockers(
        session, sitting_id=sitting.id, today=dt.date(2026, 10, 19)
    )
    assert {h.id for h in blockers} == {h.id for h in drafted}
    assert (
        hearings.sitting_act_blockers(session, sitting_id=sitting.id, today=dt.date(2026, 10, 20))
        == []
    )
    with pytest.raises(Conflict):  # a reward act is the akimat's act on the sitting
        hearings.adopt(
            session,
            hearing_id=drafted[0].id,
            act_reasons="…",
            actor_id=secretary,
            scope=Scope.within([s.unit_id]),
            now=TUESDAY,
        )
    with pytest.raises(Conflict):  # no act recorded yet
        hearings.adopt_for_sitting(session, sitting_id=sitting.id, actor_id=secretary, now=TUESDAY)
    session.rollback()

    sessions.finalize_minutes(
        session,
        session_id=sitting.id,
        text_kk="ХАТТАМА",
        text_ru="ПРОТОКОЛ",
        actor_id=secretary,
        now=cf.NOW,
    )
    sessions.record_act(
        session,
        session_id=sitting.id,
        number="№ 412",
        date=dt.date(2026, 10, 20),
        actor_id=secretary,
    )
    adopted = hearings.adopt_for_sitting(
        session, sitting_id=sitting.id, actor_id=secretary, now=TUESDAY
    )
    session.commit()
    assert len(adopted) == 2
    rows = session.scalars(select(Hearing).where(Hearing.sitting_id == sitting.id)).all()
    assert {(h.status, h.act_number, h.act_on) for h in rows} == {
        ("adopted", "412", dt.date(2026, 10, 20))
    }
    # The commission's decisions stand as they were: the act gives effect to them.
    session.refresh(unfunded)
    session.refresh(refused)
    assert (unfunded.status, refused.status) == ("deferred", "rejected")


def test_the_act_cannot_adopt_hearings_whose_term_runs(app, session):
    s, sitting, *_ = _closed_sitting(session)
    hearings.draft_for_sitting(
        session, sitting_id=sitting.id, actor_id=s.users["secretary"], now=cf.NOW
    )
    session.commit()
    sessions.finalize_minutes(
        session,
        session_id=sitting.id,
        text_kk="ХАТТАМА",
        text_ru="ПРОТОКОЛ",
        actor_id=s.users["secretary"],
        now=cf.NOW,
    )
    sessions.record_act(
        session, session_id=sitting.id, number="413", date=cf.HELD_ON, actor_id=s.users["secretary"]
    )
    with pytest.raises(Conflict):
        hearings.adopt_for_sitting(
            session, sitting_id=sitting.id, actor_id=s.users["secretary"], now=cf.NOW
        )
    session.rollback()
    assert session.scalars(select(Hearing.status)).all() == ["notified", "notified"]


def test_a_sittings_act_gives_the_vote_and_waits_for_reasons_on_objections(app, session):
    """Review R1, finding 7: the act's reasons are the vote and how objections were weighed."""
    from tests.appeals import test_hearing_review_fixes as rf  # its helpers, without a cycle

    s, sitting, _unfunded, refused = _closed_sitting(session)
    secretary = s.users["secretary"]
    drafted = hearings.draft_for_sitting(
        session, sitting_id=sitting.id, actor_id=secretary, now=cf.NOW
    )
    by_subject = {h.subject_id: h for h in drafted}
    target = by_subject[refused.id]
    scope = Scope.within([s.unit_id])
    for h in drafted:  # paper notices, if any: received on the day of the sitting
        if h.earliest_act_on is None:
            hearings.record_delivery(
                session,
                hearing_id=h.id,
                received_on=cf.HELD_ON,
                how="by_hand",
                actor_id=secretary,
                scope=scope,
                now=cf.NOW,
            )
    hearings.object(
        session,
        hearing_id=target.id,
        body="Келіспеймін",
        channel="paper",
        actor_id=secretary,
        now=cf.NOW,
    )
    blockers = hearings.sitting_act_blockers(
        session, sitting_id=sitting.id, today=dt.date(2026, 10, 20)
    )
    assert [h.id for h in blockers] == [target.id]
    with pytest.raises(DomainError):
        hearings.set_sitting_hearing_reasons(
            session, hearing_id=target.id, reasons=" ", actor_id=secretary, scope=scope
        )
    hearings.set_sitting_hearing_reasons(
        session,
        hearing_id=target.id,
        reasons="Қарсылық қаралды: дауыс беру нәтижесі өзгермейді",
        actor_id=secretary,
        scope=scope,
        now=cf.NOW,
    )
    assert audit_count(session, "hearing.reasons", "hearing", target.id) == 1
    assert (
        hearings.sitting_act_blockers(session, sitting_id=sitting.id, today=dt.date(2026, 10, 20))
        == []
    )
    sessions.finalize_minutes(
        session,
        session_id=sitting.id,
        text_kk="ХАТТАМА",
        text_ru="ПРОТОКОЛ",
        actor_id=secretary,
        now=cf.NOW,
    )
    sessions.record_act(
        session,
        session_id=sitting.id,
        number="№ 412",
        date=dt.date(2026, 10, 20),
        actor_id=secretary,
    )
    hearings.adopt_for_sitting(session, sitting_id=sitting.id, actor_id=secretary, now=TUESDAY)
    assert target.act_reasons != "№ 412" and "412" not in target.act_reasons
    assert "against 4" in target.act_reasons
    assert "Қарсылық қаралды" in target.act_reasons
    for code in ("kk", "ru"):
        lang = language(code)
        out = rf._text(documents.act_blocks(session, target, lang))
        assert "Қарсылық қаралды" in out
        assert (
            lang(
                "The commission decided at its sitting of %(date)s: for %(yes)s, against "
                "%(no)s, abstained %(abstained)s.",
                date=lang.date(cf.HELD_ON),
                yes=0,
                no=4,
                abstained=0,
            )
            in out
        )
    other = rf._hearing(session, person=rf.citizen(session))
    official, reg_scope = rf.registrar(session)
    with pytest.raises(Conflict):  # only a sitting's hearing
        hearings.set_sitting_hearing_reasons(
            session, hearing_id=other.id, reasons="…", actor_id=official.id, scope=reg_scope
        )
