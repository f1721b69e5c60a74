"""Deputies' oversight: dashboard figures, scope, drill-down, masking, the audit log."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from budget import reports as budget_reports
from budget.models import BudgetLine, LedgerEntry
from core import accounts, clock, places
from core.audit import AuditEvent
from core.money import format_tiyn
from core.scope import Scope
from incentives import payouts
from incentives import reports as reward_reports
from incentives.models import Payout
from tests.conftest import login_as, translated
from tests.factories.commission import IBAN, MCI_2026, close_session, nominate, nominee
from tests.factories.oversight import DEPUTY_PASSWORD, other_deputy, paid_reward

# Both databases: aggregates in SQL.
pytestmark = pytest.mark.both_databases


def _client(app, email, password=None):
    client = app.test_client()
    if password:
        assert client.post("/login", data={"login": email, "password": password}).status_code == 302
    else:
        login_as(client, email)
    return client


def _links(html: str, prefix: str) -> list[str]:
    return re.findall(r'href="(' + re.escape(prefix) + r'[^"]*)"', html)


def _assert_page_figures_equal_the_frames(session, scope: Scope, year: int) -> None:
    """The dashboard's figures summed by the database are the exports' frames, figure for figure."""
    frame = budget_reports.execution_by_line(session, scope=scope, year=year)
    lines, programs, districts, totals = budget_reports.execution_rows(
        session, scope=scope, year=year
    )
    assert lines == frame.to_dict("records")
    for rows, rollup in (
        (programs, budget_reports.execution_by_program),
        (districts, budget_reports.execution_by_district),
    ):
        assert rows == rollup(session, scope=scope, year=year).to_dict("records")
    assert totals == budget_reports.totals(frame)
    months, quarters = budget_reports.disbursed_by_period(session, scope=scope, year=year)
    by_month = budget_reports.disbursed_by_month(session, scope=scope, year=year)
    assert months == by_month.to_dict("records")
    by_quarter = budget_reports.disbursed_by_quarter(session, scope=scope, year=year)
    assert quarters == by_quarter.to_dict("records")
    summary, forms, kinds = reward_reports.reward_figures(session, scope=scope, year=year)
    assert summary == reward_reports.reward_summary(session, scope=scope, year=year)
    by_form = reward_reports.rewards_by_form(session, scope=scope, year=year)
    assert forms == by_form.to_dict("records")
    by_kind = reward_reports.rewards_by_contribution_kind(session, scope=scope, year=year)
    assert kinds == by_kind.to_dict("records")


@pytest.mark.both_databases  # the figures are summed in SQL, per dialect
def test_dashboard_figures_equal_the_ledger(app, session):
    w = paid_reward(session)
    s = w.s
    line = session.get(BudgetLine, s.line_id)
    disbursed = int(  # PostgreSQL sums arrive as Decimal
        session.scalar(
            select(func.sum(LedgerEntry.amount_tiyn)).where(
                LedgerEntry.line_id == s.line_id, LedgerEntry.kind == "disburse"
            )
        )
    )
    assert disbursed == line.disbursed_tiyn == 10 * MCI_2026
    region = places.by_kato(session, "350000000")
    frame = budget_reports.execution_by_line(session, scope=Scope.within([region.id]), year=2026)
    row = frame.set_index("line_id").loc[s.line_id]
    assert row["approved_tiyn"] == line.approved_tiyn
    assert row["disbursed_tiyn"] == disbursed
    assert row["available_tiyn"] == line.approved_tiyn - line.committed_tiyn - disbursed
    assert row["execution_pct"] == round(disbursed * 100 / line.approved_tiyn, 1)
    for rollup in (budget_reports.execution_by_program, budget_reports.execution_by_district):
        # The dashboard hands its line frame in; the sums are those of a fresh query.
        alone = rollup(session, scope=Scope.within([region.id]), year=2026)
        given = rollup(session, scope=Scope.within([region.id]), year=2026, lines=frame.copy())
        assert alone.equals(given) and alone["disbursed_tiyn"].sum() == disbursed
    months = budget_reports.disbursed_by_month(session, scope=Scope.within([region.id]), year=2026)
    assert months["disbursed_tiyn"].sum() == disbursed
    paid_on = clock.local_date(
        session.scalars(select(LedgerEntry.at).where(LedgerEntry.kind == "disburse")).one()
    )
    assert months.set_index("month").loc[paid_on.month, "disbursed_tiyn"] == disbursed
    quarters = budget_reports.disbursed_by_quarter(
        session, scope=Scope.within([region.id]), year=2026
    )
    assert quarters.set_index("quarter").loc[(paid_on.month - 1) // 3 + 1, "payments"] == 1
    forms = reward_reports.rewards_by_form(session, scope=Scope.within([region.id]), year=2026)
    cash = forms.set_index("form").loc["cash"]
    assert (cash["rewards"], cash["people"], cash["paid_tiyn"]) == (1, 1, disbursed)
    kinds = reward_reports.rewards_by_contribution_kind(
        session, scope=Scope.within([region.id]), year=2026
    )
    assert kinds.set_index("kind").loc["offense_reported", "contributions"] == 2
    summary = reward_reports.reward_summary(session, scope=Scope.within([region.id]), year=2026)
    assert (summary["people"], summary["average_reward_tiyn"]) == (1, disbursed)

    page = _client(app, "deputy@demo.kz").get("/oversight/?year=2026")
    assert page.status_code == 200
    html = page.text
    total = re.search(r'id="total-disbursed">([^<]*)<', html).group(1)
    assert total == format_tiyn(disbursed)
    assert re.search(r'id="total-approved">([^<]*)<', html).group(1) == format_tiyn(
        int(frame["approved_tiyn"].sum())
    )
    assert re.search(r'id="people-rewarded">([^<]*)<', html).group(1) == "1"
    assert f"/oversight/lines/{s.line_id}" in html
    assert "<svg" in html and "style=" not in html
    within = Scope.within([region.id])
    for scope in (within, within.resolved(session), Scope.everywhere(), Scope.within([])):
        _assert_page_figures_equal_the_frames(session, scope, 2026)


def test_deputy_of_another_district_sees_nothing(app, session):
    w = paid_reward(session)
    s, member, ids, sitting, item, payout = w.s, w.member, w.ids, w.sitting, w.item, w.payout
    other_deputy(session)
    other = _client(app, "deputy.abai@demo.kz", DEPUTY_PASSWORD)
    board = other.get("/oversight/?year=2026")
    assert board.status_code == 200
    assert f"/oversight/lines/{s.line_id}" not in board.text
    # The audit log shows what officials of Abai did, not the payout made for Bukhar-Zhyrau.
    log = other.get(f"/oversight/audit?object_type=payout&object_id={payout.id}")
    assert log.status_code == 200 and '<tr class="event">' not in log.text
    assert member.full_name not in board.text
    for url in (
        f"/oversight/lines/{s.line_id}",
        f"/oversight/sessions/{sitting.id}",
        f"/oversight/rewards/{item.id}",
        f"/oversight/payouts/{payout.item_id}",
        f"/oversight/members/{member.id}",
        f"/oversight/contributions/{ids[0]}",
        "/oversight/lines/999999",
    ):
        assert other.get(url).status_code == 404, url
    # Other roles may not use the oversight screens at all.
    assert _client(app, "volunteer@demo.kz").get("/oversight/").status_code == 403


def test_drill_down_from_the_total_to_confirmed_contributions(app, session):
    w = paid_reward(session)
    s, member, ids, sitting = w.s, w.member, w.ids, w.sitting
    deputy = _client(app, "deputy@demo.kz")
    board = deputy.get("/oversight/?year=2026").text
    [line_url] = [u for u in _links(board, "/oversight/lines/") if u.endswith(f"/{s.line_id}")]
    line_page = deputy.get(line_url)
    assert line_page.status_code == 200 and "№ 30/1" in line_page.text  # the adopting decision
    assert _links(line_page.text, "/oversight/decisions/")
    session_url = _links(line_page.text, "/oversight/sessions/")[0]
    session_page = deputy.get(session_url)
    assert session_page.status_code == 200
    # The minutes in the deputy's language (Kazakh), the Russian text a link away.
    assert sitting.minutes_hash in session_page.text and "ХАТТАМА № 1" in session_page.text
    assert "ПРОТОКОЛ № 1" in deputy.get(session_url + "?minutes=ru").text
    assert "№ 412" in session_page.text  # the akimat's act
    payout_url = _links(session_page.text, "/oversight/payouts/")[0]
    payout_page = deputy.get(payout_url)
    assert payout_page.status_code == 200 and "ПП-1044" in payout_page.text
    assert "KZ** **** **** 0100" in payout_page.text
    recipient_url = _links(payout_page.text, "/oversight/members/")[0]
    recipient = deputy.get(recipient_url)
    assert recipient.status_code == 200 and member.full_name in recipient.text
    contribution_urls = _links(recipient.text, "/oversight/contributions/")
    assert sorted(int(u.rsplit("/", 1)[1]) for u in contribution_urls) == sorted(ids)
    contribution = deputy.get(contribution_urls[0])
    assert contribution.status_code == 200 and "KUSP-" in contribution.text
    # Every record page shows its audit trail.
    trail = translated(app, "Audit trail", "kk")
    for page in (line_page, session_page, payout_page, recipient, contribution):
        assert trail in page.text
    assert translated(app, "Reward paid", "kk") in payout_page.text


def test_full_iin_and_iban_never_appear_to_a_deputy(app, session):
    w = paid_reward(session)
    s, member, ids, sitting, item, payout = w.s, w.member, w.ids, w.sitting, w.item, w.payout
    deputy = _client(app, "deputy@demo.kz")
    urls = [
        "/oversight/?year=2026",
        f"/oversight/lines/{s.line_id}",
        f"/oversight/sessions/{sitting.id}",
        f"/oversight/rewards/{item.id}",
        f"/oversight/payouts/{payout.item_id}",
        f"/oversight/members/{member.id}",
        f"/oversight/contributions/{ids[0]}",
        "/oversight/audit",
        "/oversight/audit?object_type=payout",
    ]
    for url in urls:
        page = deputy.get(url)
        assert page.status_code == 200, url
        assert member.iin not in page.text, url
        assert IBAN not in page.text, url
    assert "••••••••" + member.iin[-4:] in deputy.get(f"/oversight/members/{member.id}").text


def test_audit_browser_filters_and_bad_filters(app, session):
    w = paid_reward(session)
    payout = w.payout
    deputy = _client(app, "deputy@demo.kz")
    page = deputy.get("/oversight/audit")
    assert page.status_code == 200
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert last.hash in page.text  # the head hash
    assert len(re.findall(r'<tr class="event">', page.text)) == 50  # one page, newest first
    seqs = [int(x) for x in re.findall(r'<tr class="event"><td>(\d+)</td>', page.text)]
    assert seqs == sorted(seqs, reverse=True) and seqs[0] == last.seq
    assert 'rel="next"' in page.text

    by_object = deputy.get(f"/oversight/audit?object_type=payout&object_id={payout.id}")
    rows = re.findall(r'<tr class="event">', by_object.text)
    assert len(rows) == 1 and f"/oversight/payouts/{payout.item_id}" in by_object.text

    finance = accounts.find_by_login(session, "finance@demo.kz")
    by_actor = deputy.get("/oversight/audit?actor=finance@demo.kz&action=payout")
    assert len(re.findall(r'<tr class="event">', by_actor.text)) == 1
    assert (
        deputy.get(f"/oversight/audit?actor={finance.id}&action=payout").text.count(
            '<tr class="event">'
        )
        == 1
    )
    none_yet = deputy.get("/oversight/audit?from=2001-01-01&to=2001-01-02")
    assert none_yet.status_code == 200 and '<tr class="event">' not in none_yet.text

    for bad in (
        "/oversight/audit?from=2026-02-30",
        "/oversight/audit?to=yesterday",
        "/oversight/audit?from=2026-10-20&to=2026-01-01",
        "/oversight/audit?actor=nobody@nowhere.kz",
        "/oversight/audit?actor=99999999",
        "/oversight/audit?page=abc",
        "/oversight/audit?page=-5&object_id=%27%20OR%201=1",
    ):
        response = deputy.get(bad)
        assert response.status_code in (200, 400), bad
    assert translated(
        app, "The start date is after the end date; the dates were ignored.", "kk"
    ) in (deputy.get("/oversight/audit?from=2026-10-20&to=2026-01-01").text)
    # An unknown e-mail answers like a known one with no events: the filter does not tell
    # whether an address is registered (issue 17, finding 5).
    unknown = deputy.get("/oversight/audit?actor=nobody@nowhere.kz")
    assert unknown.status_code == 200 and '<tr class="event">' not in unknown.text
    unknown_id = deputy.get("/oversight/audit?actor=99999999")
    assert unknown_id.status_code == 400 and "99999999" in unknown_id.text

    started = deputy.post("/oversight/audit/verify")
    assert started.status_code == 302 and "/jobs/" in started.headers["Location"]


def test_pages_render_in_three_languages(app, session):
    w = paid_reward(session)
    s, member, sitting, payout = w.s, w.member, w.sitting, w.payout
    admin = _client(app, "admin@demo.kz")
    for lang in ("kk", "ru", "en"):
        admin.post("/language", data={"lang": lang})
        for url, msgid in (
            ("/oversight/?year=2026", "Spending dashboard"),
            (f"/oversight/lines/{s.line_id}", "Rewards charged to this line"),
            (f"/oversight/sessions/{sitting.id}", "Final minutes"),
            (f"/oversight/payouts/{payout.item_id}", "Ledger"),
            (f"/oversight/members/{member.id}", "Rewards"),
            ("/oversight/audit", "Audit log"),
        ):
            page = admin.get(url)
            assert page.status_code == 200, (lang, url)
            assert translated(app, msgid, lang) in page.text, (lang, url)


def test_voided_rewards_are_not_counted_as_rewarded(app, session):
    w = paid_reward(session)
    s = w.s
    region = places.by_kato(session, "350000000")
    assert session.scalar(select(func.count()).select_from(Payout)) == 1
    other, other_ids = nominee(session)
    n = nominate(session, s, other, other_ids, form="thanks")
    again = close_session(session, s, [n.id])
    summary = reward_reports.reward_summary(session, scope=Scope.within([region.id]), year=2026)
    assert (summary["rewards"], summary["people"]) == (2, 2)
    payouts.void(session, item_id=again.items[0].id, reason="Бас тартты", actor_id=1)
    session.commit()
    summary = reward_reports.reward_summary(session, scope=Scope.within([region.id]), year=2026)
    assert (summary["rewards"], summary["people"], summary["voided"]) == (1, 1, 1)
    _assert_page_figures_equal_the_frames(session, Scope.within([region.id]), 2026)


def test_a_lines_rewards_come_a_page_at_a_time(app, session, monkeypatch):
    """A region's line funds hundreds of rewards a year: the line's page lists them a page at a
    time, in the order they were decided, with the total and a pager."""
    from portal.oversight import drilldown_views

    w = paid_reward(session)
    second, contribution_ids = nominee(session)
    later = close_session(
        session,
        w.s,
        [nominate(session, w.s, second, contribution_ids, mci=5).id],
        held_on=w.sitting.held_on + dt.timedelta(days=7),
    )
    monkeypatch.setattr(drilldown_views, "LINE_REWARDS_PAGE", 1)
    deputy = _client(app, "deputy@demo.kz")
    url = f"/oversight/lines/{w.s.line_id}"
    first = deputy.get(url)
    assert first.status_code == 200
    mine, theirs = f"/oversight/rewards/{w.item.id}", f"/oversight/rewards/{later.items[0].id}"
    assert mine in first.text and theirs not in first.text
    assert translated(app, "Rewards in all: %(n)s", "kk", n=2) in first.text
    assert f'href="{url}?page=2"' in first.text
    rest = deputy.get(f"{url}?page=2")
    assert theirs in rest.text and mine not in rest.text
    assert f"/oversight/sessions/{later.id}" in rest.text
    # A page past the end shows the last one, never an error.
    assert theirs in deputy.get(f"{url}?page=99").text


def test_a_sessions_agenda_comes_a_page_at_a_time_to_a_deputy(app, session, monkeypatch):
    from portal.oversight import drilldown_views
    from tests.factories import commission as fx

    s = fx.setup(session)
    nominations = []
    for _ in range(2):
        member, contribution_ids = fx.nominee(session)
        nominations.append(fx.nominate(session, s, member, contribution_ids, mci=5).id)
    sitting = fx.close_session(session, s, nominations)
    first_item, second_item = sorted(sitting.items, key=lambda i: i.position)
    monkeypatch.setattr(drilldown_views, "SESSION_ITEMS_PAGE", 1)
    deputy = _client(app, "deputy@demo.kz")
    url = f"/oversight/sessions/{sitting.id}"
    page = deputy.get(url)
    assert page.status_code == 200
    assert f"/oversight/rewards/{first_item.id}" in page.text
    assert f"/oversight/rewards/{second_item.id}" not in page.text
    assert f'href="{url}?page=2"' in page.text
    rest = deputy.get(f"{url}?page=2").text
    assert f"/oversight/rewards/{second_item.id}" in rest
    assert f"/oversight/rewards/{first_item.id}" not in rest
