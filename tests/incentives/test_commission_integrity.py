"""Workflow integrity of the commission (issue 15): guarded steps, the legal order of a reward,
the person behind accounts, the commission's rules as data and one annual cap."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from budget import ledger
from budget.models import BudgetLine, LedgerEntry, MCIRate
from core import accounts, places
from core.errors import Conflict, DomainError
from core.scope import Scope
from core.transitions import AlreadyMoved
from incentives import caps, flags, policy, sessions
from incentives.models import AgendaItem, CommissionSession, Nomination, Vote
from tests.conftest import login_as, race, same_browser
from tests.factories.commission import (
    FOUR,
    HELD_ON,
    MCI_2026,
    NOW,
    approved_item,
    close_session,
    funded_line,
    nominate,
    nominee,
    open_sitting,
    plan_sitting,
    setup,
    vote_all,
)
from tests.factories.volunteers import fields
from volunteers import enrolment

# Both databases: commission constraints and guarded steps.
pytestmark = pytest.mark.both_databases

REGION = "350000000"  # Karaganda region, above the district of the helpers' commission

# The field the confirmation page of an irreversible step sends (issue 19, finding 4).
YES = {"confirmed": "yes"}


def _finalize(session, s, sitting):
    sessions.finalize_minutes(
        session,
        session_id=sitting.id,
        text_kk="ХАТТАМА",
        text_ru="ПРОТОКОЛ",
        actor_id=s.users["secretary"],
        now=NOW,
    )


# ---- finding 2: a session is closed once; no commitment without an approval ------------------


def test_a_second_close_is_a_409_that_changes_nothing(app, session):
    s = setup(session)
    sitting, item = approved_item(session, s)
    committed = session.get(BudgetLine, s.line_id).committed_tiyn
    with pytest.raises(AlreadyMoved, match="Already done by"):
        sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=NOW)
    session.rollback()
    assert session.get(BudgetLine, s.line_id).committed_tiyn == committed == 10 * MCI_2026
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 1
    assert session.get(Nomination, item.nomination_id).status == "approved"


def test_the_database_refuses_a_commitment_on_an_item_not_approved(app, session):
    s = setup(session)
    _sitting, item = approved_item(session, s)
    with pytest.raises(DatabaseError):
        session.execute(
            text("UPDATE agenda_item SET outcome = 'deferred' WHERE id = :id"), {"id": item.id}
        )
    session.rollback()
    # A nomination is approved at most once, whatever session it sat on.
    other = plan_sitting(session, s, [])
    with pytest.raises(DatabaseError):
        session.execute(
            text(
                "INSERT INTO agenda_item (session_id, nomination_id, position, outcome)"
                " VALUES (:s, :n, 1, 'approved')"
            ),
            {"s": other.id, "n": item.nomination_id},
        )
    session.rollback()


# ---- finding 3: minutes → act → payment -------------------------------------------------------


def test_an_act_waits_for_final_minutes_and_is_recorded_once(app, session):
    s = setup(session)
    sitting, _item = approved_item(session, s)
    with pytest.raises(Conflict, match="Finalise the minutes before recording"):
        sessions.record_act(
            session, session_id=sitting.id, number="№ 412", date=HELD_ON, actor_id=1
        )
    session.rollback()
    assert session.get(CommissionSession, sitting.id).act_number is None
    # The database itself refuses an act on minutes that are not final.
    with pytest.raises(DatabaseError):
        session.execute(
            text(
                "UPDATE commission_session SET act_number = 'x', act_date = held_on WHERE id = :id"
            ),
            {"id": sitting.id},
        )
    session.rollback()
    _finalize(session, s, sitting)
    sessions.record_act(
        session, session_id=sitting.id, number="№ 412", date=HELD_ON, actor_id=s.users["secretary"]
    )
    session.commit()
    with pytest.raises(AlreadyMoved):
        sessions.record_act(
            session, session_id=sitting.id, number="№ 999", date=HELD_ON, actor_id=1
        )
    session.rollback()
    # Stored without the typed "№": documents print exactly one.
    assert session.get(CommissionSession, sitting.id).act_number == "412"


def test_the_session_page_says_what_comes_before_the_act(app, session, client):
    s = setup(session)
    sitting, _item = approved_item(session, s)
    login_as(client, "secretary@demo.kz")
    page = client.get(f"/commission/sessions/{sitting.id}")
    assert page.status_code == 200
    from tests.conftest import translated

    assert (
        translated(app, "Finalise the minutes before recording the akimat's act.", "kk")
        in page.text
    )
    assert f'action="/commission/sessions/{sitting.id}/act"' not in page.text
    early = client.post(
        f"/commission/sessions/{sitting.id}/act",
        data={"number": "1", "date": HELD_ON.isoformat()},
    )
    assert early.status_code == 409
    session.rollback()
    assert session.get(CommissionSession, sitting.id).act_number is None


# ---- finding 4: the person, not the account ---------------------------------------------------


def _walk_in_nominee_who_sits_on_the_commission(session, s, label: str):
    """A walk-in register entry (no account) whose IIN the commission member's account filed
    an application with: the same person."""
    member, ids = nominee(session)  # walk-in: Member.user_id is None
    assert member.user_id is None
    enrolment.submit_application(
        session,
        **fields(
            session,
            iin=member.iin,
            kind="patrol_member",
            applicant_id=s.users[label],
            actor_id=None,
            channel="web",
            email=None,
        ),
    )
    return member, ids


def test_a_member_is_recused_from_a_walk_in_reward_to_herself(app, session):
    s = setup(session)
    member, ids = _walk_in_nominee_who_sits_on_the_commission(session, s, "member2")
    n = nominate(session, s, member, ids, form="certificate")
    sitting = plan_sitting(session, s, [n.id])
    open_sitting(session, s, sitting, ["chair", "secretary", "member2", "member3", "member4"])
    recused = session.scalars(
        select(Vote).where(Vote.item_id == sitting.items[0].id, Vote.choice == "recused")
    ).all()
    assert [(v.commission_member_id, v.reason, v.automatic) for v in recused] == [
        (s.members["member2"], "nominee", True)
    ]
    with pytest.raises(Conflict, match="recused"):
        vote_all(session, s, sitting, {"member2": "for"})


def test_the_red_flags_find_the_same_person_through_an_application(app, session):
    s = setup(session)
    member, ids = _walk_in_nominee_who_sits_on_the_commission(session, s, "member3")
    n = nominate(session, s, member, ids, form="thanks")
    sitting = plan_sitting(session, s, [n.id])
    open_sitting(session, s, sitting, ["chair", "secretary", "member2", "member3", "member4"])
    vote_all(session, s, sitting, {"chair": "for", "secretary": "for", "member2": "for"})
    vote_all(session, s, sitting, {"member4": "for"})
    sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=NOW)
    session.commit()
    assert session.get(Nomination, n.id).status == "approved"  # recused, 4 others decided
    found = flags.recipients_who_are_insiders(session, Scope.everywhere())
    assert [(f.msg, f.target_id) for f in found] == [
        ("%(name)s was rewarded by the commission they sit on.", sitting.items[0].id)
    ]


# ---- rules as data: the secretary's vote, the deputy chair, declared conflicts ---------------


def test_a_secretary_who_does_not_vote_counts_for_no_quorum(app, session):
    s = setup(session)
    admin = accounts.find_by_login(session, "admin@demo.kz")
    policy.set_rules(
        session,
        commission_id=s.commission_id,
        secretary_votes=False,
        chair_stand_in="deputy_chair",
        actor_id=admin.id,
    )
    member, ids = nominee(session)
    n = nominate(session, s, member, ids, form="certificate")
    sitting = plan_sitting(session, s, [n.id])
    # 4 voting members: 3 present of the 3 needed.
    open_sitting(session, s, sitting, ["chair", "secretary", "member2", "member3"])
    assert sitting.quorum_met is True
    with pytest.raises(Conflict, match="secretary does not vote"):
        vote_all(session, s, sitting, {"secretary": "for"})
    vote_all(session, s, sitting, {"chair": "for", "member2": "for", "member3": "against"})
    sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=NOW)
    assert sitting.items[0].outcome == "approved"


def test_rules_cannot_change_while_a_session_sits(app, session):
    # Quorum is taken at opening and counted again at closing: one set of rules for both.
    s = setup(session)
    admin = accounts.find_by_login(session, "admin@demo.kz")
    member, ids = nominee(session)
    n = nominate(session, s, member, ids, form="certificate")
    sitting = plan_sitting(session, s, [n.id])
    open_sitting(session, s, sitting, ["chair", "secretary", "member2", "member3"])
    with pytest.raises(Conflict, match="is sitting"):
        policy.set_rules(
            session,
            commission_id=s.commission_id,
            secretary_votes=False,
            chair_stand_in="deputy_chair",
            actor_id=admin.id,
        )


def _with_deputy_chair(session, s):
    admin = accounts.find_by_login(session, "admin@demo.kz")
    deputy = accounts.create_user(
        session,
        email="deputy.chair@demo.kz",
        phone=None,
        full_name="Орынбасар Төраға",
        unit_id=s.unit_id,
        preferred_language="kk",
        password="commission member 1",
        actor_id=None,
    )
    s.members["deputy_chair"] = policy.add_member(
        session,
        commission_id=s.commission_id,
        user_id=deputy.id,
        role="deputy_chair",
        position_kk="",
        position_ru="",
        term_from=dt.date(2026, 1, 1),
        term_to=None,
        actor_id=admin.id,
    ).id
    s.users["deputy_chair"] = deputy.id


@pytest.mark.parametrize("stand_in", ["deputy_chair", "nobody"])
def test_the_deputy_chair_breaks_a_tie_when_the_chair_is_absent(app, session, stand_in):
    s = setup(session)
    _with_deputy_chair(session, s)
    policy.set_rules(
        session,
        commission_id=s.commission_id,
        secretary_votes=True,
        chair_stand_in=stand_in,
        actor_id=s.users["secretary"],
    )
    member, ids = nominee(session)
    n = nominate(session, s, member, ids, form="certificate")
    sitting = plan_sitting(session, s, [n.id])
    present = ["secretary", "member2", "member3", "deputy_chair"]  # 4 of 6 present, 4 needed
    open_sitting(session, s, sitting, present)
    vote_all(
        session,
        s,
        sitting,
        {"deputy_chair": "for", "secretary": "for", "member2": "against", "member3": "against"},
    )
    sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=NOW)
    assert sitting.items[0].outcome == ("approved" if stand_in == "deputy_chair" else "rejected")


def test_a_declared_conflict_recuses_and_appears_in_the_minutes(app):
    from portal.commission.session_views import minutes_texts
    from portal.extensions import db

    with app.test_request_context():
        session = db.session
        s = setup(session, members=6)
        member, ids = nominee(session)
        n = nominate(session, s, member, ids, form="thanks")
        sitting = plan_sitting(session, s, [n.id])
        sessions.declare_conflict(
            session,
            item_id=sitting.items[0].id,
            commission_member_id=s.members["member5"],
            reason="Номинанттың көршісі",
            actor_id=s.users["member5"],
        )
        open_sitting(session, s, sitting, ["chair", "secretary", "member2", "member3", "member5"])
        recusal = session.scalar(
            select(Vote).where(
                Vote.item_id == sitting.items[0].id,
                Vote.commission_member_id == s.members["member5"],
            )
        )
        assert (recusal.choice, recusal.reason) == ("recused", "Номинанттың көршісі")
        vote_all(session, s, sitting, dict.fromkeys(FOUR, "for"))
        sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=NOW)
        session.flush()
        session.expire_all()
        text_kk, text_ru = minutes_texts(session.get(CommissionSession, sitting.id))
        name = session.get(accounts.User, s.users["member5"]).full_name
        for minutes in (text_kk, text_ru):
            assert f"{name} (Номинанттың көршісі)" in minutes
        session.rollback()


# ---- finding 6: one annual cap, by the decision's year, across the region's commissions -------


def test_the_cap_counts_by_the_year_of_the_decision(app, session):
    s = setup(session, approved_tiyn=100 * MCI_2026)
    if session.get(MCIRate, 2027) is None:
        session.add(MCIRate(year=2027, amount_tiyn=MCI_2026))
    funded_line(session, 100 * MCI_2026, s.unit_id, year=2027)
    person, ids = nominee(session, contributions=4)
    # Both nominated before either is decided; the first in 2026, the second in 2027.
    first = nominate(session, s, person, ids[:2], mci=15, today=dt.date(2026, 12, 20))
    second = nominate(session, s, person, ids[2:], mci=10, today=dt.date(2027, 1, 10))
    for n, held_on in ((first, dt.date(2027, 1, 15)), (second, dt.date(2027, 2, 10))):
        close_session(session, s, [n.id], held_on=held_on)
    # The first reward was DECIDED in 2027: 15 + 10 MCI is over the cap of 20 for 2027.
    assert session.get(Nomination, first.id).status == "approved"
    second = session.get(Nomination, second.id)
    assert second.status == "deferred"
    assert "annual cap" in json.loads(second.outcome_reason)["msg"]
    assert (
        caps.awarded(session, person=person.iin_index, year=2027, unit_id=s.unit_id)
        == 15 * MCI_2026
    )
    assert caps.awarded(session, person=person.iin_index, year=2026, unit_id=s.unit_id) == 0
    # A deferred item holds no commitment.
    deferred = session.scalar(select(AgendaItem).where(AgendaItem.nomination_id == second.id))
    assert deferred.ledger_entry_id is None
    assert ledger.reconcile(session) == []


def _region_commission(session, s):
    """The region's own commission, with the same people, a policy of a higher cap and a line."""
    region = places.by_kato(session, REGION)
    admin = accounts.find_by_login(session, "admin@demo.kz")
    policy.set_policy(
        session,
        unit_id=region.id,
        effective_from=dt.date(2026, 1, 1),
        resolution="Облыс әкімдігінің қаулысы № 1",
        forms=["thanks", "certificate", "valuable_gift", "cash"],
        cash_cap_mci=15,
        annual_cap_mci=40,
        points={},
        quorum=(2, 3),
        chair_breaks_tie=True,
        actor_id=admin.id,
        annual_cap_basis="Облыс әкімдігінің қаулысы № 1, 4-тармақ",
    )
    funded_line(session, 100 * MCI_2026, region.id)
    commission = policy.create_commission(
        session,
        unit_id=region.id,
        name_kk="Облыстық комиссия",
        name_ru="Облыстық комиссия",
        body_kk="Әкімдік",
        body_ru="Акимат",
        actor_id=admin.id,
    )
    members, users = {}, {}
    for label in FOUR:
        role = label if label in ("chair", "secretary") else "member"
        members[label] = policy.add_member(
            session,
            commission_id=commission.id,
            user_id=s.users[label],
            role=role,
            position_kk="",
            position_ru="",
            term_from=dt.date(2026, 1, 1),
            term_to=None,
            actor_id=admin.id,
        ).id
        users[label] = s.users[label]
    from tests.factories.commission import Setup

    return Setup(region.id, 0, commission.id, members, users, s.coordinator_id)


def test_the_cap_is_one_across_the_commissions_of_a_region_in_closing_and_flags(app, session):
    s = setup(session)  # the district: 20 MCI a year
    r = _region_commission(session, s)  # the region: 40 MCI a year
    person, ids = nominee(session, contributions=3)
    district = nominate(session, s, person, ids[:1], mci=15)
    region = nominate(session, r, person, ids[1:2], mci=15)
    for who, n in ((s, district), (r, region)):
        close_session(session, who, [n.id])
    assert [session.get(Nomination, n.id).status for n in (district, region)] == [
        "approved",
        "approved",
    ]  # 30 of the region's 40
    assert (
        caps.awarded(session, person=person.iin_index, year=2026, unit_id=s.unit_id)
        == 30 * MCI_2026
    )
    # The district sees the same total: one more reward there is over its 20 MCI a year.
    with pytest.raises(DomainError, match="over the annual cap"):
        nominate(session, s, person, ids[2:], form="valuable_gift", amount_tiyn=100_00)
    session.rollback()
    # The red flags count the same way: the region lowers its cap to 20, and the person (one
    # IIN, two commissions) is flagged once with both rewards.
    session.execute(
        text("UPDATE reward_policy SET annual_cap_mci = 20 WHERE unit_id = :u"), {"u": r.unit_id}
    )
    session.commit()
    found = [
        f for f in flags.over_annual_cap(session, Scope.everywhere()) if f.kind == "over_annual_cap"
    ]
    assert len(found) == 1
    assert found[0].params["n"] == 2 and found[0].params["year"] == 2026


# ---- PostgreSQL: twenty at once, one effect -----------------------------------------------------


def _pg_closed_ready(app):
    """An open session on PostgreSQL where everyone has voted; returns (setup, session id)."""
    from portal.extensions import db

    with app.app_context():
        s = setup(db.session)
        member, ids = nominee(db.session)
        n = nominate(db.session, s, member, ids, mci=10)
        sitting = plan_sitting(db.session, s, [n.id])
        open_sitting(db.session, s, sitting, list(FOUR))
        vote_all(db.session, s, sitting, dict.fromkeys(FOUR, "for"))
        db.session.commit()
        return s, sitting.id


def _assert_one_commitment(app, s, amount):
    from portal.extensions import db

    with app.app_context():
        line = db.session.get(BudgetLine, s.line_id)
        assert line.committed_tiyn == amount
        commits = db.session.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.line_id == s.line_id, LedgerEntry.kind == "commit")
        )
        assert commits == 1
        assert ledger.reconcile(db.session) == []


def test_twenty_parallel_closes_decide_once(pg_app):
    s, session_id = _pg_closed_ready(pg_app)
    client = pg_app.test_client()
    login_as(client, "secretary@demo.kz")
    browsers = [same_browser(client) for _ in range(20)]
    close = f"/commission/sessions/{session_id}/close"
    results = race(20, lambda i: browsers[i].post(close, data=YES))
    codes = sorted(r.status_code for r in results)
    assert codes == [302] + [409] * 19, codes
    _assert_one_commitment(pg_app, s, 10 * MCI_2026)
    from core.audit import AuditEvent
    from portal.extensions import db

    with pg_app.app_context():
        closes = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "session.close")
        )
        assert closes == 1


def test_twenty_parallel_finalisations_and_acts_take_effect_once(pg_app):
    from core.audit import AuditEvent
    from portal.extensions import db

    s, session_id = _pg_closed_ready(pg_app)
    with pg_app.app_context():
        sessions.close(db.session, session_id=session_id, actor_id=s.users["secretary"], now=NOW)
        db.session.commit()

    def attempt(step):
        def run(i):
            with pg_app.app_context():
                try:
                    step(i)
                    db.session.commit()
                    return "done"
                except Conflict as exc:
                    db.session.rollback()
                    return exc
                finally:
                    db.session.remove()

        return run

    finalised = race(
        20,
        attempt(
            lambda i: sessions.finalize_minutes(
                db.session,
                session_id=session_id,
                text_kk=f"ХАТТАМА {i}",
                text_ru=f"ПРОТОКОЛ {i}",
                actor_id=s.users["secretary"],
                now=NOW,
            )
        ),
    )
    assert finalised.count("done") == 1
    assert all(isinstance(r, AlreadyMoved) for r in finalised if r != "done")
    acts = race(
        20,
        attempt(
            lambda i: sessions.record_act(
                db.session,
                session_id=session_id,
                number=f"№ {i}",
                date=HELD_ON,
                actor_id=s.users["secretary"],
            )
        ),
    )
    assert acts.count("done") == 1
    assert all(isinstance(r, Conflict) for r in acts if r != "done")
    with pg_app.app_context():
        sitting = db.session.get(CommissionSession, session_id)
        winner = finalised.index("done")
        assert sitting.minutes_kk == f"ХАТТАМА {winner}"
        assert sitting.act_number == f"{acts.index('done')}"  # stored without its "№"
        for action in ("minutes.final", "session.act"):
            assert (
                db.session.scalar(
                    select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
                )
                == 1
            )
    _assert_one_commitment(pg_app, s, 10 * MCI_2026)
