"""Red flags: each fires on a seeded case and keeps quiet otherwise; the job and the page."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, text

from budget.models import FiscalYearClosure, LedgerEntry
from core import accounts
from core.scope import Scope
from incentives import flags, policy
from incentives.models import Nomination
from tests.conftest import login_as, translated, wait_for_jobs
from tests.factories.commission import (
    IBAN,
    MCI_2026,
    close_session,
    nominate,
    nominee,
    pay_item,
    setup,
)
from volunteers.activity_models import Contribution

# Both databases: red-flag SQL written per dialect.
pytestmark = pytest.mark.both_databases


def _kinds(found):
    return [f.kind for f in found]


def _pay_before_the_rule(session, item, order_date, mci=10):
    """A payout recorded before final minutes and the act, as the portal allowed before
    migration 0015: written past the trigger that now refuses it (restored right after)."""
    from incentives.models import Payout

    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        trigger = session.scalar(
            text("SELECT sql FROM sqlite_master WHERE name = 'payout_legal_order'")
        )
        session.execute(text("DROP TRIGGER payout_legal_order"))
    else:
        session.execute(text("ALTER TABLE payout DISABLE TRIGGER payout_legal_order"))
    amount = mci * MCI_2026
    session.add(
        Payout(
            item_id=item.id,
            gross_tiyn=amount,
            withheld_tiyn=0,
            net_tiyn=amount,
            status="paid",
            iban=IBAN,
            order_number=f"ПП-{item.id}",
            order_date=order_date,
            recorded_by_id=1,
        )
    )
    session.flush()
    session.execute(
        text(trigger if sqlite else "ALTER TABLE payout ENABLE TRIGGER payout_legal_order")
    )
    session.commit()


def _two_rewards(session, s):
    """One person, two cash rewards of 10 MCI each (together 20: the annual cap of setup)."""
    member, ids = nominee(session, contributions=4)
    first = nominate(session, s, member, ids[:2], mci=10)
    second = nominate(session, s, member, ids[2:], mci=10)
    sitting = close_session(session, s, [first.id, second.id], final=True, act=True)
    assert [i.outcome for i in sitting.items] == ["approved", "approved"]
    return member, sitting.items


def test_payout_without_final_minutes_fires(app, session):
    s = setup(session)
    member, ids = nominee(session)
    sitting = close_session(session, s, [nominate(session, s, member, ids).id])
    _pay_before_the_rule(session, sitting.items[0], dt.date(2026, 10, 20))
    found = flags.payouts_without_minutes(session, Scope.within([s.unit_id]))
    assert _kinds(found) == ["payout_without_minutes"]
    assert "neither final minutes nor an akimat act" in found[0].msg
    assert found[0].target_type == "payout"
    # Outside the jurisdictions looked at, nothing shows.
    other = accounts.find_by_login(session, "admin@demo.kz").unit_id
    assert flags.payouts_without_minutes(session, Scope.within([other]))  # the country covers it
    karaganda_city = session.scalar(text("SELECT id FROM admin_unit WHERE kato = '351610000'"))
    if karaganda_city:
        assert flags.payouts_without_minutes(session, Scope.within([karaganda_city])) == []


def test_payout_with_final_minutes_and_act_is_quiet(app, session):
    s = setup(session)
    member, ids = nominee(session)
    sitting = close_session(
        session, s, [nominate(session, s, member, ids).id], final=True, act=True
    )
    pay_item(session, sitting.items[0], dt.date(2026, 10, 20))
    assert flags.payouts_without_minutes(session, Scope.everywhere()) == []


def test_final_minutes_without_act_fires(app, session):
    s = setup(session)
    member, ids = nominee(session)
    sitting = close_session(session, s, [nominate(session, s, member, ids).id], final=True)
    _pay_before_the_rule(session, sitting.items[0], dt.date(2026, 10, 20))
    (found,) = flags.payouts_without_minutes(session, Scope.everywhere())
    assert "no akimat act" in found.msg


def test_recipient_over_annual_cap_fires(app, session):
    s = setup(session)
    member, _items = _two_rewards(session, s)
    # A later resolution lowers the annual cap to 15 MCI: 20 MCI awarded is over it.
    policy.set_policy(
        session,
        unit_id=s.unit_id,
        effective_from=dt.date(2026, 2, 1),
        resolution="№ 9 қаулы",
        forms=["thanks", "cash"],
        cash_cap_mci=15,
        annual_cap_mci=15,
        points={},
        quorum=(2, 3),
        chair_breaks_tie=True,
        actor_id=1,
    )
    session.commit()
    (found,) = flags.over_annual_cap(session, Scope.within([s.unit_id]))
    assert found.params["iin"].endswith(member.iin[-4:]) and member.iin not in str(found.params)
    assert found.params["n"] == 2


def test_recipient_within_annual_cap_is_quiet(app, session):
    s = setup(session)
    _two_rewards(session, s)  # 20 MCI, exactly the cap of 20
    assert flags.over_annual_cap(session, Scope.everywhere()) == []


def test_payouts_within_30_days_over_one_reward_cap_fire(app, session):
    s = setup(session)
    _member, items = _two_rewards(session, s)
    pay_item(session, items[0], dt.date(2026, 10, 20))
    pay_item(session, items[1], dt.date(2026, 11, 5))
    (found,) = flags.payouts_within_30_days(session, Scope.within([s.unit_id]))
    assert found.params["n"] == 2
    assert (found.params["start"], found.params["end"]) == ("2026-10-20", "2026-11-05")


def test_payouts_further_apart_than_30_days_are_quiet(app, session):
    s = setup(session)
    _member, items = _two_rewards(session, s)
    pay_item(session, items[0], dt.date(2026, 10, 20))
    pay_item(session, items[1], dt.date(2026, 12, 1))
    assert flags.payouts_within_30_days(session, Scope.everywhere()) == []


def _link_member(session, member, user_id):
    session.execute(
        text("UPDATE member SET user_id = :u WHERE id = :m"), {"u": user_id, "m": member.id}
    )
    session.commit()


def test_recipient_who_is_coordinator_or_commission_member_fires(app, session):
    s = setup(session)
    first, ids = nominee(session)
    second, ids2 = nominee(session)
    close_session(
        session,
        s,
        [nominate(session, s, first, ids).id, nominate(session, s, second, ids2).id],
        final=True,
        act=True,
    )
    _link_member(session, first, s.coordinator_id)  # the coordinator who also nominated
    _link_member(session, second, s.users["member4"])
    found = flags.recipients_who_are_insiders(session, Scope.within([s.unit_id]))
    messages = sorted(f.msg for f in found)
    assert len(found) == 3
    assert any("commission they sit on" in m for m in messages)
    assert any("coordinator" in m for m in messages)
    assert any("their own nomination" in m for m in messages)


def test_ordinary_recipient_is_quiet(app, session):
    s = setup(session)
    member, ids = nominee(session)
    close_session(session, s, [nominate(session, s, member, ids).id], final=True, act=True)
    assert flags.recipients_who_are_insiders(session, Scope.everywhere()) == []


def test_contributions_confirmed_by_the_nominator_fire(app, session):
    s = setup(session)
    member, _ = nominee(session, contributions=0)
    c = Contribution(
        member_id=member.id,
        unit_id=member.unit_id,
        kind="offense_reported",
        occurred_on=dt.date(2026, 9, 3),
        description="102-ге хабарлады",
        reference="KUSP-77",
        status="confirmed",
        points=5,
        decided_by_id=s.coordinator_id,
        decided_at=dt.datetime(2026, 9, 20, tzinfo=dt.UTC),
    )
    session.add(c)
    session.flush()
    n = nominate(session, s, member, [c.id])
    session.commit()
    assert session.get(Nomination, n.id).status == "submitted"
    (found,) = flags.confirmed_by_nominator(session, Scope.within([s.unit_id]))
    assert (found.target_type, found.target_id, found.params["n"]) == ("member", member.id, 1)


def test_contributions_confirmed_by_someone_else_are_quiet(app, session):
    s = setup(session)
    member, ids = nominee(session)  # confirmed by the registrar, nominated by the coordinator
    nominate(session, s, member, ids)
    session.commit()
    assert flags.confirmed_by_nominator(session, Scope.everywhere()) == []


def _closure(session, s, closed_at):
    session.add(FiscalYearClosure(unit_id=s.unit_id, fiscal_year=2026, closed_at=closed_at))
    session.commit()


def test_commitment_after_the_year_was_closed_fires(app, session):
    s = setup(session)
    member, ids = nominee(session)
    close_session(session, s, [nominate(session, s, member, ids).id])
    entry_at = session.scalar(select(LedgerEntry.at).where(LedgerEntry.kind == "commit"))
    _closure(session, s, entry_at - dt.timedelta(days=1))
    (found,) = flags.commits_on_closed_years(session, Scope.within([s.unit_id]))
    assert (found.target_type, found.target_id, found.params["year"]) == (
        "budget_line",
        s.line_id,
        2026,
    )


def test_commitment_before_the_closure_is_quiet(app, session):
    s = setup(session)
    member, ids = nominee(session)
    close_session(session, s, [nominate(session, s, member, ids).id])
    entry_at = session.scalar(select(LedgerEntry.at).where(LedgerEntry.kind == "commit"))
    _closure(session, s, entry_at + dt.timedelta(days=1))
    assert flags.commits_on_closed_years(session, Scope.everywhere()) == []


def test_line_counters_differing_from_ledger_fire_and_balanced_are_quiet(app, session):
    s = setup(session)
    assert flags.lines_differing_from_ledger(session, Scope.everywhere()) == []
    session.execute(
        text("UPDATE budget_line SET committed_tiyn = committed_tiyn + 100 WHERE id = :id"),
        {"id": s.line_id},
    )
    session.commit()
    (found,) = flags.lines_differing_from_ledger(session, Scope.within([s.unit_id]))
    assert (found.target_type, found.target_id) == ("budget_line", s.line_id)


def test_broken_audit_chain_fires_and_intact_is_quiet(app, session):
    setup(session)
    assert flags.broken_audit_chain(session, Scope.everywhere()) == []
    sql = "UPDATE audit_event SET payload = '{}' WHERE seq = 3"
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        session.execute(text(sql))
        session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    else:
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text(sql))
    session.commit()
    (found,) = flags.broken_audit_chain(session, Scope.everywhere())
    assert found.params == {"seq": 3}


def test_flags_job_and_page_show_counts_explanations_and_links(app, client, session):
    s = setup(session)
    member, ids = nominee(session)
    sitting = close_session(session, s, [nominate(session, s, member, ids).id])
    _pay_before_the_rule(session, sitting.items[0], dt.date(2026, 10, 20))
    login_as(client, "deputy@demo.kz")
    page = client.get("/oversight/flags")
    assert page.status_code == 200
    assert 'id="never-computed"' in page.text
    deputy = accounts.find_by_login(session, "deputy@demo.kz")
    response = client.post("/oversight/flags/compute", data={"unit_id": deputy.scope("deputy")[0]})
    assert response.status_code == 302
    wait_for_jobs(app)
    job_page = client.get(response.headers["Location"])
    assert translated(app, "Red flags found: %(n)s.", "kk", n=1) in job_page.text
    page = client.get("/oversight/flags")
    assert 'data-kind="payout_without_minutes"' in page.text
    assert "/oversight/payouts/" in page.text
    # Out of scope: a unit the deputy does not oversee is refused with a message.
    bad = client.post("/oversight/flags/compute", data={"unit_id": 999999})
    assert bad.status_code == 400
    client.post("/logout")
    login_as(client, "finance@demo.kz")
    assert client.get("/oversight/flags").status_code == 403


def test_scheduled_flags_run_covers_every_jurisdiction(app, session):
    from portal import jobs

    with app.app_context():
        from portal.extensions import db

        run = jobs.submit("oversight.flags", requested_by_id=None, unit_id=None)
        db.session.commit()
        run_id = run.id
    wait_for_jobs(app)
    session.rollback()
    from core.jobruns import JobRun

    done = session.get(JobRun, run_id)
    assert done.status == "succeeded"
    from appeals import flags as catalogue  # the job runs the rewards' and appeals' checks

    assert set(json.loads(done.result)["counts"]) == set(catalogue.KINDS)


def test_line_approved_beyond_its_verified_decisions_fires_and_balanced_is_quiet(app, session):
    # Finding 1 of issue 15: an amount applied twice went unnoticed by the red flags.
    s = setup(session)
    assert flags.lines_differing_from_decisions(session, Scope.everywhere()) == []
    session.execute(
        text("UPDATE budget_line SET approved_tiyn = approved_tiyn * 2 WHERE id = :id"),
        {"id": s.line_id},
    )
    session.commit()
    (found,) = flags.lines_differing_from_decisions(session, Scope.within([s.unit_id]))
    assert (found.target_type, found.target_id) == ("budget_line", s.line_id)
    assert flags.lines_differing_from_decisions(session, Scope.within([s.unit_id + 10_000])) == []
