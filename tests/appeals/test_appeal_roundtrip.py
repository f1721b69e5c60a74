"""Round trips: an overturned refusal ends registered, an overturned deferral ends paid."""

from __future__ import annotations

import datetime as dt

import pytest

from appeals import complaints, hearing_replies, hearings, queries
from budget import ledger
from budget.models import BudgetLine
from core import clock, places
from core.accounts import User
from core.scope import Scope
from incentives import reconcile as reward_reconcile
from incentives import sessions
from incentives.models import Nomination
from tests.appeals.complaint_factory import (
    FILE_DAY,
    PDF,
    adopt_act,
    at,
    citizen,
    configure_review,
    file_against,
    petitioned,
    reviewer,
    user,
)
from tests.factories.commission import (
    FOUR,
    HELD_ON,
    IBAN,
    MCI_2026,
    NOW,
    nominate,
    nominee,
    open_sitting,
    plan_sitting,
    setup,
    vote_all,
)
from volunteers import enrolment
from volunteers.models import Application

# Both databases: the ledger, counters and guarded steps of four workflows.
pytestmark = pytest.mark.both_databases


def _forward_and_cancel(session, complaint, *, actor_email: str, role: str, on: dt.date):
    actor = user(session, actor_email)
    complaints.forward(
        session,
        complaint_id=complaint.id,
        actor_id=actor.id,
        scope=Scope.of(actor, role),
        now=at(on),
    )
    complaints.decide(
        session,
        complaint_id=complaint.id,
        outcome="cancel",
        reasons="Негіздер дәлелденбеді",
        actor_id=reviewer(session).id,
        now=at(on + dt.timedelta(days=7)),
    )


def test_an_overturned_akimat_refusal_ends_registered_with_a_certificate(app, session):
    configure_review(session)
    person = citizen(session)
    application = petitioned(session, person, today=dt.date(2026, 10, 26))
    hearing = adopt_act(session, "refuse_registration", application.id)
    session.expire_all()
    refused = session.get(Application, application.id)
    assert (refused.status, refused.refused_by, refused.live) == ("refused", "akimat", False)
    complaint = file_against(session, hearing, person)
    assert complaint.subject_type == "application" and complaint.act_kind == "refuse_registration"
    _forward_and_cancel(
        session, complaint, actor_email="registrar@demo.kz", role="registrar", on=FILE_DAY
    )
    session.commit()
    session.expire_all()
    reopened = session.get(Application, application.id)
    assert (reopened.status, reopened.refused_by, reopened.live) == ("petitioned", None, True)
    member = enrolment.register_applicant(
        session,
        application_id=application.id,
        actor_id=user(session, "registrar@demo.kz").id,
        today=dt.date(2026, 11, 20),
    )
    session.commit()
    assert member.status == "active" and member.user_id == person.id
    assert member.certificate_no.endswith("-2026-" + member.certificate_no.rsplit("-", 1)[1])
    assert (
        complaints.inaction_candidates(session, person_user_id=person.id, today=dt.date(2027, 1, 1))
        == []
    )


def _decided_with_act(session, s, outcome: str = "deferred"):
    """A cash nomination deferred at a sitting (a recusal left no quorum on it) or rejected
    (voted against), the hearing drafted for it, the akimat's act adopting it."""
    member, contribution_ids = nominee(session)
    nomination = nominate(session, s, member, contribution_ids, mci=10)
    sitting = plan_sitting(session, s, [nomination.id])
    if outcome == "deferred":
        sessions.declare_conflict(
            session,
            item_id=sitting.items[0].id,
            commission_member_id=s.members["member2"],
            reason="Номинанттың туысы",
            actor_id=s.users["member2"],
        )
        open_sitting(session, s, sitting, FOUR)
        vote_all(session, s, sitting, dict.fromkeys(("chair", "secretary", "member3"), "for"))
    else:
        open_sitting(session, s, sitting, FOUR)
        vote_all(session, s, sitting, dict.fromkeys(FOUR, "against"))
    sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=NOW)
    assert sitting.items[0].outcome == outcome
    drafted = hearings.draft_for_sitting(
        session, sitting_id=sitting.id, actor_id=s.users["secretary"], now=NOW
    )
    kind = "defer_reward" if outcome == "deferred" else "refuse_reward"
    assert [(h.act_kind, h.subject_id) for h in drafted] == [(kind, nomination.id)]
    sessions.finalize_minutes(
        session,
        session_id=sitting.id,
        text_kk="ХАТТАМА",
        text_ru="ПРОТОКОЛ",
        actor_id=s.users["secretary"],
        now=NOW,
    )
    act_day = dt.date(2026, 10, 21)  # after the 3 working days of the hearing
    for hearing in drafted:
        if hearing.earliest_act_on is None:  # no account nor e-mail: the notice went by hand
            secretary = session.get(User, s.users["secretary"])
            hearing_replies.record_delivery(
                session,
                hearing_id=hearing.id,
                received_on=clock.local_date(NOW),
                how="by_hand",
                actor_id=secretary.id,
                scope=Scope.of(secretary, "secretary"),
                now=NOW,
            )
    assert hearings.sitting_act_blockers(session, sitting_id=sitting.id, today=act_day) == []
    sessions.record_act(
        session, session_id=sitting.id, number="№ 412", date=act_day, actor_id=s.users["secretary"]
    )
    hearings.adopt_for_sitting(
        session, sitting_id=sitting.id, actor_id=s.users["secretary"], now=at(act_day)
    )
    session.refresh(drafted[0])
    assert drafted[0].status == "adopted"
    return member, nomination, drafted[0]


def _sit_and_pay(session, s, sitting, day: dt.date):
    open_sitting(session, s, sitting, FOUR)
    vote_all(session, s, sitting, dict.fromkeys(FOUR, "for"))
    sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=at(day))
    item = sitting.items[0]
    assert item.outcome == "approved"
    sessions.finalize_minutes(
        session,
        session_id=sitting.id,
        text_kk="ХАТТАМА 2",
        text_ru="ПРОТОКОЛ 2",
        actor_id=s.users["secretary"],
        now=at(day),
    )
    sessions.record_act(
        session, session_id=sitting.id, number="№ 480", date=day, actor_id=s.users["secretary"]
    )
    from incentives import payouts

    payouts.record_payment(
        session,
        item_id=item.id,
        iban=IBAN,
        order_number=f"ПП-{item.id}",
        order_date=day + dt.timedelta(days=3),
        amount_tiyn=10 * MCI_2026,
        idempotency_key=f"appeal-pay-{item.id}",
        actor_id=user(session, "finance@demo.kz").id,
        today=dt.date(2026, 12, 31),
    )
    session.commit()
    return item


def _paper_complaint(session, member, hearing):
    """The member has no account: the secretary enters the paper complaint with its scan."""
    secretary = user(session, "secretary@demo.kz")
    return complaints.file(
        session,
        actor_id=secretary.id,
        channel="paper",
        hearing_id=hearing.id,
        name=member.full_name,
        iin=member.iin,
        address="Ботақара, Абай к-сі 5",
        contact=None,
        act_challenged=f"Акт № {hearing.act_number}",
        grounds="Комиссия менің жұмысымды толық қарамады",
        request="Келесі отырыста қайта қарауды сұраймын",
        attachments=[complaints.Upload("scan.pdf", "application/pdf", PDF)],
        now=at(dt.date(2026, 10, 26)),  # a day off (Republic Day moved)
        scope=Scope.of(secretary, "secretary"),
    )


def test_an_overturned_deferral_goes_on_the_next_agenda_and_ends_paid(app, session):
    s = setup(session)
    configure_review(session)
    member, nomination, hearing = _decided_with_act(session, s)
    complaint = _paper_complaint(session, member, hearing)
    assert complaint.registered_on == dt.date(2026, 10, 27)  # filed on a day off
    assert not complaint.execution_stayed  # a reward's deferral has nothing to stay
    assert queries.complaints_about_sitting_decisions(session, s.commission_id, at(HELD_ON)) == [
        complaint
    ]
    # R1 #22: bounded by the next sitting's closing, a complaint is listed in one set of minutes.
    filed = complaint.filed_at
    assert (
        queries.complaints_about_sitting_decisions(
            session, s.commission_id, at(HELD_ON), until=filed
        )
        == []
    )
    assert queries.complaints_about_sitting_decisions(
        session, s.commission_id, filed, until=filed + dt.timedelta(seconds=1)
    ) == [complaint]
    # No sitting is planned when the review body decides: the nomination waits, first in line.
    _forward_and_cancel(
        session, complaint, actor_email="secretary@demo.kz", role="secretary", on=FILE_DAY
    )
    session.commit()
    assert session.get(Nomination, nomination.id).status == "deferred"
    assert queries.returned_nominations(session, s.commission_id) == [nomination.id]
    next_day = dt.date(2026, 12, 10)
    sitting = sessions.plan(
        session,
        commission_id=s.commission_id,
        held_on=next_day,
        place_kk="Әкімдік, мәжіліс залы",
        place_ru="Акимат, зал заседаний",
        on_paper=False,
        actor_id=s.users["secretary"],
    )
    assert complaints.put_returned_on_agenda(
        session, session_id=sitting.id, actor_id=s.users["secretary"]
    ) == [nomination.id]
    assert queries.returned_nominations(session, s.commission_id) == []
    committed_before = session.get(BudgetLine, s.line_id).committed_tiyn
    item = _sit_and_pay(session, s, sitting, next_day)
    session.expire_all()
    assert session.get(Nomination, nomination.id).status == "approved"
    line = session.get(BudgetLine, s.line_id)
    assert line.disbursed_tiyn == 10 * MCI_2026 and line.committed_tiyn == committed_before
    assert item.ledger_entry_id is not None
    session.rollback()
    assert ledger.reconcile(session) == []
    assert reward_reconcile.check_rewards(session) == []


def test_an_overturned_reward_refusal_is_submitted_again_and_waits_for_the_agenda(app, session):
    s = setup(session)
    configure_review(session)
    member, nomination, hearing = _decided_with_act(session, s, "rejected")
    complaint = _paper_complaint(session, member, hearing)
    _forward_and_cancel(
        session, complaint, actor_email="secretary@demo.kz", role="secretary", on=FILE_DAY
    )
    session.commit()
    session.expire_all()
    assert session.get(Nomination, nomination.id).status == "submitted"
    assert queries.returned_nominations(session, s.commission_id) == [nomination.id]
    sitting = sessions.plan(
        session,
        commission_id=s.commission_id,
        held_on=dt.date(2026, 12, 10),
        place_kk="Әкімдік",
        place_ru="Акимат",
        on_paper=False,
        actor_id=s.users["secretary"],
    )
    complaints.put_returned_on_agenda(session, session_id=sitting.id, actor_id=s.users["secretary"])
    assert [i.nomination_id for i in sitting.items] == [nomination.id]
    assert session.get(Nomination, nomination.id).status == "on_agenda"


def test_an_overturned_refusal_of_an_initiative_goes_back_to_review(app, session):
    import sober
    from incentives.sober_models import Initiative

    configure_review(session)
    volunteer = user(session, "volunteer@demo.kz")
    initiative = sober.submit_initiative(
        session,
        unit_id=places.by_kato(session, "354030100").id,
        title="Жастар кеші алкогольсіз",
        description="Ауылда алкогольсіз мерекелер",
        measures="Спорт жарыстары",
        team="Ботақара жастар ұйымы",
        requested_incentive="Спорт құралдары",
        proposer_role="activist",
        actor_id=volunteer.id,
        home_unit_id=volunteer.unit_id,
    )
    hearing = adopt_act(
        session,
        "decline_initiative",
        initiative.id,
        author="coordinator@demo.kz",
        roles=("coordinator",),
    )
    session.expire_all()
    assert session.get(Initiative, initiative.id).status == "declined"
    complaint = file_against(session, hearing, volunteer)
    _forward_and_cancel(
        session, complaint, actor_email="coordinator@demo.kz", role="coordinator", on=FILE_DAY
    )
    session.commit()
    session.expire_all()
    assert session.get(Initiative, initiative.id).status == "under_review"


def test_an_overturned_deferral_joins_an_already_planned_sitting(app, session):
    s = setup(session)
    configure_review(session)
    member, nomination, hearing = _decided_with_act(session, s)
    complaint = _paper_complaint(session, member, hearing)
    sitting = sessions.plan(
        session,
        commission_id=s.commission_id,
        held_on=dt.date(2026, 12, 10),
        place_kk="Әкімдік",
        place_ru="Акимат",
        on_paper=False,
        actor_id=s.users["secretary"],
    )
    # The review body decides on 16 November: the sitting of 10 December is the next one.
    _forward_and_cancel(
        session, complaint, actor_email="secretary@demo.kz", role="secretary", on=FILE_DAY
    )
    session.commit()
    session.expire_all()
    assert session.get(Nomination, nomination.id).status == "on_agenda"
    assert [i.nomination_id for i in sitting.items] == [nomination.id]
    assert queries.returned_nominations(session, s.commission_id) == []


def test_planning_a_sitting_on_the_portal_puts_a_returned_nomination_first(app, session):
    """R1 #11: the portal's plan_session puts the nominations a complaint sent back on the new
    sitting's agenda in the same transaction."""
    from tests.conftest import login_as

    s = setup(session)
    configure_review(session)
    member, nomination, hearing = _decided_with_act(session, s, "rejected")
    complaint = _paper_complaint(session, member, hearing)
    _forward_and_cancel(
        session, complaint, actor_email="secretary@demo.kz", role="secretary", on=FILE_DAY
    )
    session.commit()
    client = app.test_client()
    login_as(client, "secretary@demo.kz")
    planned = client.post(
        "/commission/sessions",
        data={
            "commission_id": s.commission_id,
            "held_on": "2026-12-10",
            "place_kk": "Әкімдік",
            "place_ru": "Акимат",
        },
    )
    assert planned.status_code == 302, planned.text
    session.expire_all()
    assert session.get(Nomination, nomination.id).status == "on_agenda"
    assert queries.returned_nominations(session, s.commission_id) == []
