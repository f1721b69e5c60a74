"""The reward commission: quorum, votes, recusal, tie rule, caps, budget, minutes and payouts."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from budget import ledger
from budget.models import BudgetLine, LedgerEntry
from core.errors import Conflict, DomainError, PermissionDenied
from core.scope import Scope
from incentives import payouts, sessions
from incentives.models import AgendaItem, Nomination
from tests.factories.commission import (
    FOUR,
    HELD_ON,
    IBAN,
    MCI_2026,
    NOW,
    approved_cash_item,
    close_session,
    nominate,
    nominee,
    open_sitting,
    plan_sitting,
    setup,
    vote_all,
)
from tests.factories.sober import supported_initiative


def test_quorum_of_two_thirds_and_closing_without_it_is_refused(app, session):
    s = setup(session)
    member, ids = nominee(session)
    n = nominate(session, s, member, ids)
    sitting = plan_sitting(session, s, [n.id])
    open_sitting(session, s, sitting, ["chair", "secretary", "member2"])  # 3 of 5 < 4
    assert sitting.quorum_met is False
    assert sessions.quorum_needed(5, 2, 3) == 4
    vote_all(session, s, sitting, {"chair": "for", "secretary": "for", "member2": "for"})
    session.commit()
    with pytest.raises(Conflict, match="quorum"):
        sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=NOW)
    session.rollback()
    assert session.get(Nomination, n.id).status == "on_agenda"


def test_approval_commits_budget_and_votes_are_refused_twice_or_when_absent(app, session):
    s = setup(session)
    member, ids = nominee(session)
    n = nominate(session, s, member, ids, mci=10)
    sitting = plan_sitting(session, s, [n.id])
    open_sitting(session, s, sitting, ["chair", "secretary", "member2", "member3"])
    item = sitting.items[0]
    with pytest.raises(Conflict, match="present"):
        sessions.vote(
            session,
            item_id=item.id,
            commission_member_id=s.members["member4"],
            choice="for",
            reason=None,
            entered_by_id=s.users["member4"],
        )
    with pytest.raises(PermissionDenied):  # nobody votes for someone else
        sessions.vote(
            session,
            item_id=item.id,
            commission_member_id=s.members["chair"],
            choice="for",
            reason=None,
            entered_by_id=s.users["secretary"],
        )
    vote_all(
        session,
        s,
        sitting,
        {"chair": "for", "secretary": "for", "member2": "for", "member3": "against"},
    )
    with pytest.raises(Conflict, match="already voted"):
        vote_all(session, s, sitting, {"chair": "against"})
    session.commit()
    with pytest.raises(Conflict, match="not voted"):
        # A present member who has not voted stops the closing.
        pass_ = sessions.plan(
            session,
            commission_id=s.commission_id,
            held_on=HELD_ON,
            place_kk="x",
            place_ru="x",
            on_paper=False,
            actor_id=s.users["secretary"],
        )
        other, other_ids = nominee(session)
        m = nominate(session, s, other, other_ids)
        sessions.add_to_agenda(
            session, session_id=pass_.id, nomination_ids=[m.id], actor_id=s.users["secretary"]
        )
        open_sitting(session, s, pass_, ["chair", "secretary", "member2", "member3"])
        sessions.close(session, session_id=pass_.id, actor_id=s.users["secretary"], now=NOW)
    session.rollback()
    sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=NOW)
    session.commit()
    item = session.get(AgendaItem, item.id)
    assert (item.outcome, item.votes_for, item.votes_against) == ("approved", 3, 1)
    line = session.get(BudgetLine, s.line_id)
    assert line.committed_tiyn == 10 * MCI_2026
    assert session.get(Nomination, n.id).status == "approved"


@pytest.mark.parametrize("chair_breaks_tie", [True, False])
def test_a_tie_is_broken_by_the_chair_only_when_the_policy_says_so(app, session, chair_breaks_tie):
    s = setup(session, chair_breaks_tie=chair_breaks_tie)
    member, ids = nominee(session)
    n = nominate(session, s, member, ids, form="certificate")
    sitting = plan_sitting(session, s, [n.id])
    open_sitting(session, s, sitting, ["chair", "secretary", "member2", "member3"])
    vote_all(
        session,
        s,
        sitting,
        {"chair": "for", "secretary": "for", "member2": "against", "member3": "against"},
    )
    sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=NOW)
    assert sitting.items[0].outcome == ("approved" if chair_breaks_tie else "rejected")


def test_nominator_on_the_commission_is_recused_automatically(app, session):
    s = setup(session, coordinator_on_commission=True)
    member, ids = nominee(session)
    n = nominate(session, s, member, ids, form="thanks")
    sitting = plan_sitting(session, s, [n.id])
    open_sitting(session, s, sitting, ["chair", "secretary", "member2", "member3", "coordinator"])
    recusal = [v for v in sitting.items[0].votes if v.choice == "recused"]
    assert [(v.commission_member_id, v.automatic, v.reason) for v in recusal] == [
        (s.members["coordinator"], True, "nominator")
    ]
    with pytest.raises(Conflict, match="recused"):
        vote_all(session, s, sitting, {"coordinator": "for"})
    # 3 for of the 4 voters who are not recused (the quorum of 4 holds after the recusal).
    vote_all(
        session,
        s,
        sitting,
        {"chair": "for", "secretary": "for", "member2": "for", "member3": "against"},
    )
    sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=NOW)
    item = sitting.items[0]
    assert (item.outcome, item.recused) == ("approved", 1)


def test_paper_session_votes_are_entered_by_the_secretary(app, session):
    s = setup(session)
    member, ids = nominee(session)
    n = nominate(session, s, member, ids, form="certificate")
    sitting = plan_sitting(session, s, [n.id], on_paper=True)
    open_sitting(session, s, sitting, ["chair", "secretary", "member2", "member3", "member4"])
    item = sitting.items[0]
    with pytest.raises(PermissionDenied):
        sessions.vote(
            session,
            item_id=item.id,
            commission_member_id=s.members["chair"],
            choice="for",
            reason=None,
            entered_by_id=s.users["chair"],
        )
    for label in ("chair", "secretary", "member2", "member3", "member4"):
        sessions.vote(
            session,
            item_id=item.id,
            commission_member_id=s.members[label],
            choice="for" if label != "member3" else "recused",
            reason="туысы" if label == "member3" else None,
            entered_by_id=s.users["secretary"],
        )
    sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=NOW)
    assert {v.entered_by_id for v in item.votes} == {s.users["secretary"]}
    assert item.outcome == "approved"


def test_caps_and_a_missing_contribution_are_refused_at_nomination(app, session):
    s = setup(session)
    member, ids = nominee(session)
    session.commit()
    with pytest.raises(DomainError, match="over the cap"):
        nominate(session, s, member, ids, mci=16)
    session.rollback()
    with pytest.raises(DomainError, match="at least one confirmed"):
        nominate(session, s, member, [])
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Nomination)) == 0


def test_annual_cap_and_line_balance_defer_items_and_others_proceed(app, session):
    s = setup(session, approved_tiyn=25 * MCI_2026)
    rich, rich_ids = nominee(session, contributions=4)
    first = nominate(session, s, rich, rich_ids[:2], mci=15)
    over_annual = nominate(session, s, rich, rich_ids[2:], mci=10)  # 25 > 20 MCI a year
    other, other_ids = nominee(session)
    over_line = nominate(session, s, other, other_ids, mci=12)  # 15 + 12 > 25 on the line
    small, small_ids = nominee(session)
    fits = nominate(session, s, small, small_ids, mci=8)
    sitting = close_session(session, s, [first.id, over_annual.id, over_line.id, fits.id])
    outcomes = {i.nomination_id: (i.outcome, i.outcome_reason) for i in sitting.items}
    assert outcomes[first.id][0] == "approved"
    assert outcomes[fits.id][0] == "approved"
    assert outcomes[over_annual.id][0] == "deferred"
    assert "annual cap" in json.loads(outcomes[over_annual.id][1])["msg"]
    assert outcomes[over_line.id][0] == "deferred"
    assert "available balance" in json.loads(outcomes[over_line.id][1])["msg"]
    line = session.get(BudgetLine, s.line_id)
    assert line.committed_tiyn == 23 * MCI_2026
    assert ledger.reconcile(session) == []


def test_a_contribution_backs_only_one_approved_reward(app, session):
    s = setup(session)
    member, ids = nominee(session)
    a = nominate(session, s, member, ids, form="thanks")
    b = nominate(session, s, member, ids[:1], form="certificate")
    sitting = close_session(session, s, [a.id, b.id])
    assert [i.outcome for i in sitting.items] == ["approved", "deferred"]
    with pytest.raises(Conflict, match="already supports"):
        nominate(session, s, member, ids[:1], form="thanks")


def test_final_minutes_cannot_change_and_cannot_be_finalised_twice(app, session):
    s = setup(session)
    member, ids = nominee(session)
    n = nominate(session, s, member, ids, form="thanks")
    sitting = close_session(session, s, [n.id], final=True)
    assert sitting.minutes_hash == sessions.minutes_hash("ХАТТАМА", "ПРОТОКОЛ")
    with pytest.raises(Conflict, match="Already done by"):
        sessions.finalize_minutes(
            session, session_id=sitting.id, text_kk="x", text_ru="y", actor_id=1, now=NOW
        )
    session.rollback()
    with pytest.raises(DatabaseError):
        session.execute(
            text("UPDATE commission_session SET minutes_ru = 'подделка' WHERE id = :id"),
            {"id": sitting.id},
        )
    session.rollback()
    # The akimat's act may still be recorded against final minutes.
    sessions.record_act(
        session,
        session_id=sitting.id,
        number="№ 412",
        date=HELD_ON + dt.timedelta(days=3),
        actor_id=1,
    )
    session.commit()


def test_payment_is_idempotent_and_checked(app, session):
    s = setup(session)
    item = approved_cash_item(session, s)
    finance = 1
    kwargs = dict(
        item_id=item.id,
        iban=IBAN,
        order_number="ПП-1044",
        order_date=dt.date(2026, 10, 20),
        amount_tiyn=10 * MCI_2026,
        idempotency_key="form-abc",
        actor_id=finance,
        today=dt.date(2026, 10, 21),
    )
    with pytest.raises(DomainError, match="IBAN"):
        payouts.record_payment(session, **{**kwargs, "iban": "KZ00125KZT5004100100"})
    session.rollback()
    with pytest.raises(DomainError, match="more than the commission approved"):
        payouts.record_payment(session, **{**kwargs, "amount_tiyn": 11 * MCI_2026})
    session.rollback()
    first = payouts.record_payment(session, **kwargs)
    session.commit()
    again = payouts.record_payment(session, **kwargs)  # a double click
    session.commit()
    assert again.id == first.id
    with pytest.raises(Conflict, match="Already done by"):
        payouts.record_payment(session, **{**kwargs, "idempotency_key": "another-form"})
    session.rollback()
    line = session.get(BudgetLine, s.line_id)
    assert (line.committed_tiyn, line.disbursed_tiyn) == (0, 10 * MCI_2026)
    assert (
        session.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "disburse")
        )
        == 1
    )
    assert payouts.mask_iban(first.iban) == "KZ** **** **** 0100"


def test_failed_payment_can_be_retried_and_void_releases(app, session):
    s = setup(session)
    item = approved_cash_item(session, s, mci=5)
    payouts.record_failure(
        session, item_id=item.id, iban=IBAN, order_number="ПП-1", reason="Шот жабық", actor_id=1
    )
    payouts.record_payment(
        session,
        item_id=item.id,
        iban=IBAN,
        order_number="ПП-2",
        order_date=dt.date(2026, 10, 20),
        amount_tiyn=4 * MCI_2026,  # paid less: the rest goes back to the line
        idempotency_key="retry",
        actor_id=1,
        today=dt.date(2026, 10, 21),
    )
    session.commit()
    line = session.get(BudgetLine, s.line_id)
    assert (line.committed_tiyn, line.disbursed_tiyn) == (0, 4 * MCI_2026)
    other = approved_cash_item(session, s, mci=3)
    payouts.void(session, item_id=other.id, reason="Марапатталушы бас тартты", actor_id=1)
    session.commit()
    session.refresh(line)
    assert line.committed_tiyn == 0
    assert ledger.reconcile(session) == []


def test_two_sessions_closing_at_once_never_overspend(app, db_url):
    from portal.extensions import db

    with app.app_context():
        s = setup(db.session, approved_tiyn=30 * MCI_2026)
        sittings = []
        for _ in range(2):
            items = []
            for _ in range(2):
                member, ids = nominee(db.session)
                items.append(nominate(db.session, s, member, ids, mci=10).id)
            sitting = plan_sitting(db.session, s, items)
            open_sitting(db.session, s, sitting, ["chair", "secretary", "member2", "member3"])
            vote_all(
                db.session,
                s,
                sitting,
                dict.fromkeys(FOUR, "for"),
            )
            sittings.append(sitting.id)
        db.session.commit()
    barrier = threading.Barrier(2)
    errors = []

    def closer(session_id):
        with app.app_context():
            try:
                barrier.wait()
                sessions.close(
                    db.session, session_id=session_id, actor_id=s.users["secretary"], now=NOW
                )
                db.session.commit()
            except Exception as exc:
                db.session.rollback()
                errors.append(exc)

    threads = [threading.Thread(target=closer, args=(i,)) for i in sittings]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        outcomes = db.session.scalars(select(AgendaItem.outcome)).all()
        assert sorted(outcomes) == ["approved", "approved", "approved", "deferred"]
        line = db.session.get(BudgetLine, s.line_id)
        assert line.committed_tiyn == 30 * MCI_2026 <= line.approved_tiyn
        assert ledger.reconcile(db.session) == []


def test_confirming_uses_the_points_of_the_policy_in_force(app, session):
    from core import accounts
    from incentives import policy
    from tests.factories.volunteers import make_member
    from volunteers import contributions

    s = setup(session)
    session.execute(
        text("UPDATE reward_policy SET points = :p"), {"p": json.dumps({"offense_reported": 7})}
    )
    member = make_member(session, 6990, today=dt.date(2026, 3, 18))
    logged = contributions.log_contribution(
        session,
        member_id=member.id,
        kind="offense_reported",
        occurred_on=dt.date(2026, 9, 3),
        minutes=None,
        description="102",
        reference="KUSP-1",
        actor_id=s.coordinator_id,
        today=dt.date(2026, 10, 1),
    )
    registrar = accounts.find_by_login(session, "registrar@demo.kz")
    contributions.confirm(
        session,
        contribution_id=logged.id,
        actor_id=registrar.id,
        scope=Scope.within([s.unit_id]),
        now=NOW,
        points_rule=policy.points_rule(session),
    )
    session.commit()
    session.refresh(logged)
    assert logged.points == 7  # the policy's, not the kind's default of 3


def test_an_initiative_reward_is_paid_from_the_sober_line_only(app, session):
    from incentives import nominations
    from tests.factories.commission import funded_line

    s = setup(session)
    sober_line = funded_line(
        session, 20 * MCI_2026, s.unit_id, purpose="sober_settlement_incentives"
    )
    initiative = supported_initiative(session, s)
    team = nominations.nominate_initiative(
        session,
        initiative_id=initiative.id,
        recipient="team",
        justification="Ауыл жастарын біріктірді",
        form="cash",
        amount_tiyn=10 * MCI_2026,
        entered_in="mci",
        nominator_id=s.coordinator_id,
        today=dt.date(2026, 10, 1),
    )
    activist = nominations.nominate_initiative(
        session,
        initiative_id=initiative.id,
        recipient="activist",
        justification="Бастаманың авторы",
        form="thanks",
        amount_tiyn=0,
        entered_in="mci",
        nominator_id=s.coordinator_id,
        today=dt.date(2026, 10, 1),
    )
    assert team.recipient.startswith("Жастар кеші") and team.member_id is None
    assert activist.recipient_user_id is not None
    sitting = plan_sitting(session, s, [team.id, activist.id])
    open_sitting(session, s, sitting, list(FOUR))
    vote_all(session, s, sitting, dict.fromkeys(FOUR, "for"))
    sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=NOW)
    sessions.finalize_minutes(
        session, session_id=sitting.id, text_kk="ХАТТАМА", text_ru="ПРОТОКОЛ", actor_id=1, now=NOW
    )
    sessions.record_act(session, session_id=sitting.id, number="№ 413", date=HELD_ON, actor_id=1)
    session.commit()
    item = next(i for i in sitting.items if i.nomination_id == team.id)
    assert (item.outcome, item.line_id) == ("approved", sober_line)
    payouts.record_payment(
        session,
        item_id=item.id,
        iban=IBAN,
        order_number="ПП-55",
        order_date=dt.date(2026, 10, 20),
        amount_tiyn=10 * MCI_2026,
        idempotency_key="initiative",
        actor_id=1,
        today=dt.date(2026, 10, 21),
    )
    session.commit()
    citizen = session.get(BudgetLine, s.line_id)
    sober_row = session.get(BudgetLine, sober_line)
    assert (citizen.committed_tiyn, citizen.disbursed_tiyn) == (0, 0)
    assert (sober_row.committed_tiyn, sober_row.disbursed_tiyn) == (0, 10 * MCI_2026)

    # The deputies' figures count the team and the activist as two people, in SQL as in the
    # exports' frames (the team is known by its name alone).
    from incentives import reports

    for scope in (Scope.within([s.unit_id]), Scope.within([s.unit_id]).resolved(session)):
        summary, forms, _kinds = reports.reward_figures(session, scope=scope, year=None)
        assert summary == reports.reward_summary(session, scope=scope, year=None)
        assert (summary["rewards"], summary["people"]) == (2, 2)
        by_form = reports.rewards_by_form(session, scope=scope, year=None)
        assert forms == by_form.to_dict("records")


def test_only_a_supported_initiative_can_be_put_forward(app, session):
    import sober
    from core import accounts, places
    from incentives import nominations

    s = setup(session)
    volunteer = accounts.find_by_login(session, "volunteer@demo.kz")
    fresh = sober.submit_initiative(
        session,
        unit_id=places.by_kato(session, "354030100").id,
        title="Жаңа бастама",
        description="Сипаттама",
        measures="Шаралар",
        team="Топ",
        requested_incentive="Алғыс",
        proposer_role="activist",
        actor_id=volunteer.id,
        home_unit_id=volunteer.unit_id,
    )
    with pytest.raises(Conflict, match="supported"):
        nominations.nominate_initiative(
            session,
            initiative_id=fresh.id,
            recipient="team",
            justification="x",
            form="thanks",
            amount_tiyn=0,
            entered_in="mci",
            nominator_id=s.coordinator_id,
            today=dt.date(2026, 10, 1),
        )
