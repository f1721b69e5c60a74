"""Commission screens end to end: candidates, nomination, session, votes, minutes, act, payouts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import itertools
import re

import pytest
from docx import Document
from sqlalchemy import func, select

from budget.models import BudgetLine, LedgerEntry, MCIRate
from core import accounts, audit, clock, places
from core.db import utcnow
from core.money import format_tiyn
from core.scope import Scope
from incentives import policy, sessions
from incentives.models import (
    AgendaItem,
    CommissionMember,
    CommissionSession,
    Nomination,
    Payout,
    RewardPolicy,
)
from tests.conftest import already_done, login, login_as, make_stale, translated
from tests.factories.commission import funded_line
from tests.factories.volunteers import make_member, user
from volunteers import contributions
from volunteers.models import Member

BZ = "354000000"  # Bukhar-Zhyrau district, the commission's akimat
ABAI = "353200000"  # another district of the region
PASSWORD = "commission web pass"
IBAN = "KZ86125KZT5004100100"
YES = {"confirmed": "yes"}  # the field the confirmation page of an irreversible step sends
_SERIALS = itertools.count(8100)


@dataclasses.dataclass
class World:
    today: dt.date
    unit_id: int
    line_id: int
    commission_id: int
    member: Member  # the nominee: the demo volunteer's membership
    contribution_ids: list[int]
    seats: dict[str, int]  # login -> commission member id
    mci: int


def _user(session, email: str, role: str, kato: str) -> accounts.User:
    found = accounts.find_by_login(session, email)
    if found:
        return found
    created = accounts.create_user(
        session,
        email=email,
        phone=None,
        full_name=email.split("@")[0].title() + " Тестов",
        preferred_language="kk",
        unit_id=places.by_kato(session, kato).id,
        password=PASSWORD,
        actor_id=None,
    )
    accounts.grant_role(
        session,
        user_id=created.id,
        role=role,
        unit_id=places.by_kato(session, kato).id,
        actor_id=None,
    )
    return created


def _nominee(session, today: dt.date) -> Member:
    """The demo volunteer's membership in the district (made when the register has none)."""
    volunteer = user(session, "volunteer@demo.kz")
    member = session.scalars(
        select(Member).where(Member.user_id == volunteer.id, Member.status == "active")
    ).first()
    if member is None:
        member = make_member(session, next(_SERIALS), applicant=volunteer, today=today)
    return member


def _world(session, *, on_paper_members: bool = False) -> World:
    session.rollback()
    today = clock.local_date(utcnow())
    if session.get(MCIRate, today.year) is None:  # the tests outlive the seeded years
        session.add(MCIRate(year=today.year, amount_tiyn=432_500))
        session.flush()
    mci = session.get(MCIRate, today.year).amount_tiyn
    unit = places.by_kato(session, BZ)
    admin = user(session, "admin@demo.kz")
    line_id = funded_line(session, 1_000_000 * 100, unit.id, today.year)
    policy.set_policy(
        session,
        unit_id=unit.id,
        effective_from=dt.date(today.year, 1, 1),
        resolution="Бұқар жырау ауданы әкімдігінің қаулысы № 5",
        forms=["thanks", "certificate", "valuable_gift", "cash"],
        cash_cap_mci=15,
        annual_cap_mci=30,
        points={},
        quorum=(2, 3),
        chair_breaks_tie=True,
        actor_id=admin.id,
    )
    commission = policy.create_commission(
        session,
        unit_id=unit.id,
        name_kk="Көтермелеу комиссиясы",
        name_ru="Көтермелеу комиссиясы",
        body_kk="Әкімдік",
        body_ru="Акимат",
        actor_id=admin.id,
    )
    people = [
        ("chair@demo.kz", "chair"),
        ("secretary@demo.kz", "secretary"),
        ("member@demo.kz", "member"),
        ("member2@bz.kz", "member"),
        ("member3@bz.kz", "member"),
        ("member4@bz.kz", "member"),
    ]
    seats = {}
    for email, role in people:
        person = _user(session, email, "member", BZ)
        seats[email] = policy.add_member(
            session,
            commission_id=commission.id,
            user_id=person.id,
            role=role,
            position_kk="",
            position_ru="",
            term_from=dt.date(today.year, 1, 1),
            term_to=None,
            actor_id=admin.id,
        ).id
    member = _nominee(session, today)
    assert places.within(session, member.unit_id, [unit.id])
    coordinator = user(session, "coordinator@demo.kz")
    checker = _user(session, "coordinator2@bz.kz", "coordinator", BZ)
    ids = []
    for n in range(2):
        logged = contributions.log_contribution(
            session,
            member_id=member.id,
            kind="offense_reported",
            occurred_on=today,
            minutes=None,
            description=f"102-ге хабарлады ({n})",
            reference=f"KUSP-{member.id}-{n}",
            actor_id=coordinator.id,
            today=today,
        )
        contributions.confirm(
            session,
            contribution_id=logged.id,
            actor_id=checker.id,
            scope=Scope.within([unit.id]),
            now=utcnow(),
        )
        ids.append(logged.id)
    session.commit()
    return World(today, unit.id, line_id, commission.id, member, ids, seats, mci)


def _client(app, email: str, password: str | None = None):
    client = app.test_client()
    response = login(client, email, *([password] if password else []))
    assert response.status_code == 302, email
    return client


def _count(session, model) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def _nominate(app, session, w: World) -> int:
    """Nominate through the form: bad input is refused with nothing written, then 10 MCI."""
    coordinator = _client(app, "coordinator@demo.kz")
    page = coordinator.get("/commission/candidates")
    assert page.status_code == 200 and w.member.full_name in page.text
    url = f"/commission/candidates/{w.member.id}/nominate"
    form = coordinator.get(url)
    assert form.status_code == 200 and "KUSP-" in form.text
    base = {"justification": "Белсенді қатысқаны үшін", "reward_form": "cash", "unit": "mci"}
    bare = coordinator.post(url, data={**base, "amount": "10"})
    assert bare.status_code == 422
    assert (
        translated(app, "A nomination needs at least one confirmed contribution.", "kk")
        in bare.text
    )
    over = coordinator.post(
        url, data={**base, "amount": "16", "contribution_ids": w.contribution_ids}
    )
    assert over.status_code == 422
    assert (
        translated(
            app,
            "%(amount)s is over the cap of %(mci)s MCI per reward (%(cap)s).",
            "kk",
            amount=format_tiyn(16 * w.mci),
            mci=15,
            cap=format_tiyn(15 * w.mci),
        )
        in over.text
    )
    assert _count(session, Nomination) == 0
    done = coordinator.post(
        url, data={**base, "amount": "10", "contribution_ids": w.contribution_ids}
    )
    assert done.status_code == 302
    session.rollback()
    nomination = session.scalars(select(Nomination)).one()
    assert (nomination.status, nomination.amount_tiyn) == ("submitted", 10 * w.mci)
    assert nomination.entered_in == "mci"
    page = coordinator.get(done.headers["Location"])
    assert format_tiyn(10 * w.mci) in page.text and "10.00" in page.text
    listing = coordinator.get("/commission/nominations")
    assert w.member.full_name in listing.text
    return nomination.id


def _plan_and_open(app, session, w: World, nomination_id: int, *, on_paper=False, absent=()):
    secretary = _client(app, "secretary@demo.kz")
    assert secretary.get("/commission/sessions").status_code == 200
    planned = secretary.post(
        "/commission/sessions",
        data={
            "commission_id": w.commission_id,
            "held_on": w.today.isoformat(),
            "place_kk": "Аудан әкімдігі, 2-зал",
            "place_ru": "Акимат района, зал 2",
            **({"on_paper": "y"} if on_paper else {}),
        },
    )
    assert planned.status_code == 302
    session_url = planned.headers["Location"]
    session_id = int(session_url.rstrip("/").rsplit("/", 1)[1])
    page = secretary.get(session_url)
    assert w.member.full_name in page.text  # waiting for the agenda
    agenda = secretary.post(f"{session_url}/agenda", data={"nomination_ids": [nomination_id]})
    assert agenda.status_code == 302
    present = [seat for email, seat in w.seats.items() if email not in absent]
    opened = secretary.post(f"{session_url}/open", data={"present": present})
    assert opened.status_code == 302
    session.rollback()
    item = session.scalars(select(AgendaItem).where(AgendaItem.session_id == session_id)).one()
    return secretary, session_url, session_id, item.id


def _vote(app, email: str, item_id: int, choice: str, reason: str = "", password=None):
    client = _client(app, email, password)
    return client.post(
        f"/commission/my-sessions/items/{item_id}/vote",
        data={f"i{item_id}-choice": choice, f"i{item_id}-reason": reason},
    )


def test_quarter_path_through_the_browser(app, session):
    w = _world(session)
    nomination_id = _nominate(app, session, w)

    secretary, url, session_id, item_id = _plan_and_open(
        app, session, w, nomination_id, absent=("member3@bz.kz",)
    )
    page = secretary.get(url)
    assert translated(app, "Quorum met", "kk") in page.text
    assert (
        translated(
            app,
            "%(present)s of %(total)s present, %(needed)s needed.",
            "kk",
            present=5,
            total=6,
            needed=4,
        )
        in page.text
    )

    # Members vote on their phones; twice and while absent are refused.
    member_page = _client(app, "member@demo.kz").get("/commission/my-sessions")
    assert member_page.status_code == 200 and w.member.full_name in member_page.text
    assert _vote(app, "chair@demo.kz", item_id, "for").status_code == 302
    again = _vote(app, "chair@demo.kz", item_id, "against")
    assert again.status_code == 409
    assert (
        translated(app, "This member has already voted on this item or is recused.", "kk")
        in again.text
    )
    absent = _vote(app, "member3@bz.kz", item_id, "for", password=PASSWORD)
    assert absent.status_code == 409
    assert translated(app, "Only members present at the session vote.", "kk") in absent.text
    no_reason = _vote(app, "member2@bz.kz", item_id, "recused", password=PASSWORD)
    assert no_reason.status_code == 422
    # Closing before everyone present has voted is refused with the name of who has not.
    early = secretary.post(f"{url}/close", data=YES)
    assert early.status_code == 409
    session.rollback()
    assert session.get(CommissionSession, session_id).status == "open"
    assert _vote(app, "secretary@demo.kz", item_id, "for").status_code == 302
    assert _vote(app, "member@demo.kz", item_id, "for").status_code == 302
    assert _vote(app, "member4@bz.kz", item_id, "for", password=PASSWORD).status_code == 302
    # A recusal leaves 4 voters of the 4 the quorum needs: the item is decided.
    recused = _vote(
        app, "member2@bz.kz", item_id, "recused", "Номинанттың туысы", password=PASSWORD
    )
    assert recused.status_code == 302

    closed = secretary.post(f"{url}/close", data=YES)
    assert closed.status_code == 302
    session.rollback()
    nomination = session.get(Nomination, nomination_id)
    assert nomination.status == "approved"
    line = session.get(BudgetLine, w.line_id)
    assert (line.committed_tiyn, line.disbursed_tiyn) == (10 * w.mci, 0)

    # Draft minutes, then final; finalising twice is refused and changes nothing.
    page = secretary.get(url)
    assert "Номинанттың туысы" in page.text and "Аудан әкімдігі, 2-зал" in page.text
    assert secretary.post(f"{url}/minutes", data=YES).status_code == 302
    session.rollback()
    sitting = session.get(CommissionSession, session_id)
    frozen = (sitting.minutes_kk, sitting.minutes_ru, sitting.minutes_hash)
    assert sitting.status == "minutes_final"
    assert frozen[2] == sessions.minutes_hash(frozen[0], frozen[1])
    for text in frozen[:2]:
        assert w.member.full_name in text and "Номинанттың туысы" in text
        assert format_tiyn(10 * w.mci) in text
    assert "Member3 Тестов" in sitting.minutes_ru  # the absent member is listed
    twice = secretary.post(f"{url}/minutes", data=YES)
    assert twice.status_code == 409
    secretary_name = user(session, "secretary@demo.kz").full_name
    assert (
        already_done(
            app, "kk", who=secretary_name, workflow="commission_session", state="minutes_final"
        )
        in twice.text
    )
    session.rollback()
    again = session.get(CommissionSession, session_id)
    assert (again.minutes_kk, again.minutes_ru, again.minutes_hash) == frozen
    assert f'action="/commission/sessions/{session_id}/minutes"' not in secretary.get(url).text

    printed = secretary.get(f"{url}/minutes")
    assert printed.status_code == 200 and frozen[2] in printed.text
    docx = secretary.get(f"{url}/minutes.docx?lang=ru")
    assert docx.status_code == 200
    assert docx.mimetype == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    paragraphs = [p.text for p in Document(io.BytesIO(docx.data)).paragraphs]
    assert any(w.member.full_name in p for p in paragraphs)
    assert f"SHA-256: {frozen[2]}" in paragraphs

    # The signed scan: PDF only.
    not_pdf = secretary.post(
        f"{url}/scan",
        data={"file": (io.BytesIO(b"just text"), "scan.pdf")},
        content_type="multipart/form-data",
    )
    assert not_pdf.status_code == 422
    assert translated(app, "The signed scan must be a PDF file.", "kk") in not_pdf.text
    session.rollback()
    assert session.get(CommissionSession, session_id).scan_file_id is None
    pdf = secretary.post(
        f"{url}/scan",
        data={"file": (io.BytesIO(b"%PDF-1.4\n% signed\n"), "scan.pdf")},
        content_type="multipart/form-data",
    )
    assert pdf.status_code == 302
    scan = secretary.get(f"{url}/scan")
    assert scan.mimetype == "application/pdf" and scan.data.startswith(b"%PDF-")

    act = secretary.post(f"{url}/act", data={"number": "245", "date": w.today.isoformat()})
    assert act.status_code == 302
    session.rollback()
    sitting = session.get(CommissionSession, session_id)
    assert (sitting.act_number, sitting.act_date) == ("245", w.today)
    assert sitting.minutes_hash == frozen[2]

    # Finance pays: bad IBAN and too much are refused; a double submit pays once.
    finance = _client(app, "finance@demo.kz")
    listing = finance.get("/commission/payouts")
    assert listing.status_code == 200 and w.member.full_name in listing.text
    # Each row names its session's commission (the page printed an empty name before).
    assert "Көтермелеу комиссиясы" in listing.text
    form = finance.get(f"/commission/payouts/{item_id}")
    key = re.search(r'name="key" type="hidden" value="([0-9a-f]{32})"', form.text)
    assert key, "the payment form carries an idempotency key"
    amount = format_tiyn(10 * w.mci).removesuffix("\u00a0₸")
    assert amount in form.text  # prefilled with the approved amount
    payment = {
        "iban": IBAN,
        "order_number": "ПП-17",
        "order_date": w.today.isoformat(),
        "amount": amount,
        "key": key.group(1),
        "confirmed": "yes",  # from the confirmation page (issue 19, finding 4)
    }
    # Finance never types the member's IBAN: the member enters it in the cabinet (issue 19).
    assert 'name="iban"' not in form.text and 'id="iban-missing"' in form.text
    missing = finance.post(f"/commission/payouts/{item_id}/pay", data=payment)
    assert missing.status_code == 409
    citizen = _client(app, "volunteer@demo.kz")
    bad_iban = citizen.post("/my/payout-account", data={"payout-iban": "KZ00"})
    assert bad_iban.status_code == 422
    assert (
        translated(app, "The IBAN is not valid: check the letters and digits.", "kk")
        in bad_iban.text
    )
    assert citizen.post("/my/payout-account", data={"payout-iban": IBAN}).status_code == 302
    too_much = finance.post(
        f"/commission/payouts/{item_id}/pay", data={**payment, "amount": "999999"}
    )
    assert too_much.status_code == 422
    assert _count(session, Payout) == 0
    # Paying needs a password typed in the last minutes: a stale session is sent to confirm.
    make_stale(finance)
    stale = finance.post(f"/commission/payouts/{item_id}/pay", data=payment)
    assert stale.headers["Location"].startswith("/account/confirm?next=")
    assert _count(session, Payout) == 0
    confirmed = finance.post(
        "/account/confirm",
        data={"password": "demo-portal-2026", "next": f"/commission/payouts/{item_id}"},
    )
    assert confirmed.headers["Location"] == f"/commission/payouts/{item_id}"
    assert finance.post(f"/commission/payouts/{item_id}/pay", data=payment).status_code == 302
    assert finance.post(f"/commission/payouts/{item_id}/pay", data=payment).status_code == 302
    session.rollback()
    assert _count(session, Payout) == 1
    line = session.get(BudgetLine, w.line_id)
    assert (line.committed_tiyn, line.disbursed_tiyn) == (0, 10 * w.mci)
    disbursed = session.scalar(
        select(func.count())
        .select_from(LedgerEntry)
        .where(LedgerEntry.line_id == w.line_id, LedgerEntry.kind == "disburse")
    )
    assert disbursed == 1
    # IBANs are masked for finance too; one payout's IBAN shows after an audited reveal.
    assert IBAN not in finance.get("/commission/payouts").text
    paid = session.scalar(select(Payout).where(Payout.item_id == item_id))
    page = finance.get(f"/commission/payouts/{item_id}").text
    reveal = f"/oversight/reveal/payout/{paid.id}/iban"
    assert IBAN not in page and reveal in page
    make_stale(finance)  # the password was typed long ago: the reveal asks for it again
    no_reason = finance.post(reveal, data={"password": "demo-portal-2026", "reason": ""})
    assert no_reason.status_code == 400
    wrong = finance.post(reveal, data={"password": "wrong password", "reason": "Банк сұрады"})
    assert wrong.status_code == 401
    shown = finance.post(
        reveal,
        data={"password": "demo-portal-2026", "reason": "Банк сұрады"},
        follow_redirects=True,
    )
    assert IBAN in shown.text
    assert IBAN not in finance.get(f"/commission/payouts/{item_id}").text  # one view only
    # Within five minutes of the password the reason alone is enough.
    again = finance.post(reveal, data={"reason": "Тағы тексеру"}, follow_redirects=True)
    assert IBAN in again.text
    session.rollback()
    events = session.scalars(
        select(audit.AuditEvent)
        .where(audit.AuditEvent.action == "pii.reveal")
        .order_by(audit.AuditEvent.seq)
    ).all()
    assert [e.data for e in events][-2:] == [
        {"field": "iban", "reason": "Банк сұрады"},
        {"field": "iban", "reason": "Тағы тексеру"},
    ]
    assert all(IBAN not in e.payload for e in events)

    deputy = _client(app, "deputy@demo.kz")
    masked = deputy.get("/commission/payouts")
    assert masked.status_code == 200
    assert IBAN not in masked.text and "KZ** **** **** 0100" in masked.text
    refused = deputy.post(f"/commission/payouts/{item_id}/void", data={"void-reason": "x"})
    assert refused.status_code == 403

    # The volunteer sees the reward, paid, without the account number.
    volunteer = _client(app, "volunteer@demo.kz")
    rewards = volunteer.get("/commission/my-rewards")
    assert rewards.status_code == 200
    assert translated(app, "Approved", "kk") in rewards.text
    assert translated(app, "Paid", "kk") in rewards.text
    assert format_tiyn(10 * w.mci) in rewards.text
    assert IBAN not in rewards.text


def test_another_districts_staff_get_404(app, session):
    w = _world(session)
    nomination_id = _nominate(app, session, w)
    _secretary, url, session_id, item_id = _plan_and_open(app, session, w, nomination_id)
    session.rollback()
    outsiders = {
        "coord@abai.kz": "coordinator",
        "sec@abai.kz": "secretary",
        "fin@abai.kz": "finance",
    }
    for email, role in outsiders.items():
        _user(session, email, role, ABAI)
    session.commit()
    coordinator = _client(app, "coord@abai.kz", PASSWORD)
    assert coordinator.get(f"/commission/candidates/{w.member.id}/nominate").status_code == 404
    assert coordinator.get(f"/commission/nominations/{nomination_id}").status_code == 404
    assert w.member.full_name not in coordinator.get("/commission/candidates").text
    mine = _client(app, "coordinator@demo.kz")
    last_year = mine.get(f"/commission/candidates?year={w.today.year - 1}&quarter=1")
    assert last_year.status_code == 200 and w.member.full_name not in last_year.text
    assert mine.get("/commission/candidates?quarter=5").status_code == 400
    secretary = _client(app, "sec@abai.kz", PASSWORD)
    assert secretary.get(url).status_code == 404
    assert secretary.post(f"{url}/close", data=YES).status_code == 404
    assert secretary.post(f"{url}/minutes", data=YES).status_code == 404
    assert "Аудан әкімдігі, 2-зал" not in secretary.get("/commission/sessions").text
    finance = _client(app, "fin@abai.kz", PASSWORD)
    assert finance.get(f"/commission/payouts/{item_id}").status_code == 404
    # A volunteer is no commission member: the voting screens are not theirs.
    volunteer = _client(app, "volunteer@demo.kz")
    assert volunteer.get("/commission/my-sessions").status_code == 403
    vote = volunteer.post(
        f"/commission/my-sessions/items/{item_id}/vote", data={f"i{item_id}-choice": "for"}
    )
    assert vote.status_code == 403
    session.rollback()
    assert session.get(CommissionSession, session_id).status == "open"


def test_paper_session_votes_are_entered_by_the_secretary(app, session):
    w = _world(session)
    nomination_id = _nominate(app, session, w)
    secretary, url, _session_id, item_id = _plan_and_open(
        app, session, w, nomination_id, on_paper=True
    )
    # On paper, members cannot vote themselves.
    assert _vote(app, "chair@demo.kz", item_id, "for").status_code == 403
    prefix = f"i{item_id}-"
    for email, choice in [
        ("chair@demo.kz", "against"),
        ("secretary@demo.kz", "for"),
        ("member@demo.kz", "against"),
        ("member2@bz.kz", "abstain"),
        ("member3@bz.kz", "against"),
        ("member4@bz.kz", "against"),
    ]:
        response = secretary.post(
            f"{url}/items/{item_id}/votes",
            data={prefix + "commission_member_id": w.seats[email], prefix + "choice": choice},
        )
        assert response.status_code == 302, email
    twice = secretary.post(
        f"{url}/items/{item_id}/votes",
        data={prefix + "commission_member_id": w.seats["chair@demo.kz"], prefix + "choice": "for"},
    )
    assert twice.status_code == 409
    assert secretary.post(f"{url}/close", data=YES).status_code == 302
    session.rollback()
    item = session.get(AgendaItem, item_id)
    assert (item.outcome, item.votes_for, item.votes_against, item.abstained) == (
        "rejected",
        1,
        4,
        1,
    )
    line = session.get(BudgetLine, w.line_id)
    assert line.committed_tiyn == 0
    coordinator = _client(app, "coordinator@demo.kz")
    listing = coordinator.get("/commission/nominations")
    assert translated(app, "Rejected", "kk") in listing.text
    # A rejected item has no payout.
    assert _client(app, "finance@demo.kz").get(f"/commission/payouts/{item_id}").status_code == 404


def test_admin_sets_policy_and_commission_members(app, session):
    session.rollback()
    admin = _client(app, "admin@demo.kz")
    unit = places.by_kato(session, ABAI)
    kinds = contributions.kinds(session)
    page = admin.get("/commission/admin/policies")
    assert page.status_code == 200 and 'value="15"' in page.text
    data = {
        "unit_id": unit.id,
        "effective_from": "2026-01-01",
        "resolution": "Абай ауданы әкімдігінің қаулысы № 7",
        "forms": ["thanks", "cash"],
        "cash_cap_mci": "15",
        "annual_cap_mci": "10",
        "quorum_numerator": "2",
        "quorum_denominator": "3",
        "chair_breaks_tie": "y",
        **{f"points_{k.code}": str(k.points + 1) for k in kinds},
    }
    refused = admin.post("/commission/admin/policies", data=data)
    assert refused.status_code == 422
    assert _count(session, RewardPolicy) == 0
    assert (
        admin.post("/commission/admin/policies", data={**data, "annual_cap_mci": "30"}).status_code
        == 302
    )
    session.rollback()
    saved = session.scalars(select(RewardPolicy)).one()
    assert saved.allowed_forms == ["thanks", "cash"] and saved.annual_cap_mci == 30
    assert policy.points_of(saved, kinds[0]) == kinds[0].points + 1

    names = {
        "name_kk": "Абай комиссиясы",
        "name_ru": "Комиссия Абайского района",
        "body_kk": "Абай ауданының әкімдігі",
        "body_ru": "Акимат Абайского района",
    }
    created = admin.post("/commission/admin/commissions", data={"unit_id": unit.id, **names})
    assert created.status_code == 302
    url = created.headers["Location"]
    chair = user(session, "chair@demo.kz")
    member = {"user_id": chair.id, "role": "chair", "term_from": "2026-01-01"}
    assert admin.post(url, data=member).status_code == 302
    again = admin.post(url, data=member)
    assert again.status_code == 409
    assert chair.full_name in admin.get(url).text
    session.rollback()
    seat = session.scalars(select(CommissionMember)).one()
    ended = admin.post(f"/commission/admin/members/{seat.id}/end", data={"term_to": "2026-06-30"})
    assert ended.status_code == 302
    session.rollback()
    assert session.get(CommissionMember, seat.id).term_to == dt.date(2026, 6, 30)
    assert "Абай комиссиясы" in admin.get("/commission/admin/commissions").text


def _approve(app, session, w: World, nomination_id: int) -> int:
    """Take a nomination through a session where everyone votes for; return the item id."""
    secretary, url, _session_id, item_id = _plan_and_open(app, session, w, nomination_id)
    for email in w.seats:
        password = PASSWORD if email.endswith("@bz.kz") else None
        assert _vote(app, email, item_id, "for", password=password).status_code == 302
    assert secretary.post(f"{url}/close", data=YES).status_code == 302
    # Minutes → act → payment: the reward is payable once both are recorded.
    assert secretary.post(f"{url}/minutes", data=YES).status_code == 302
    act = secretary.post(f"{url}/act", data={"number": "245", "date": w.today.isoformat()})
    assert act.status_code == 302
    return item_id


def test_gift_in_tenge_is_handed_over_and_its_cost_disbursed(app, session):
    w = _world(session)
    coordinator = _client(app, "coordinator@demo.kz")
    done = coordinator.post(
        f"/commission/candidates/{w.member.id}/nominate",
        data={
            "justification": "Іздестіру жұмысына қатысқаны үшін",
            "reward_form": "valuable_gift",
            "amount": "20 000",
            "unit": "tenge",
            "contribution_ids": w.contribution_ids,
        },
    )
    assert done.status_code == 302
    session.rollback()
    nomination = session.scalars(select(Nomination)).one()
    assert (nomination.amount_tiyn, nomination.entered_in) == (20_000_00, "tenge")
    item_id = _approve(app, session, w, nomination.id)
    finance = _client(app, "finance@demo.kz")
    page = finance.get(f"/commission/payouts/{item_id}")
    assert 'name="key"' not in page.text  # no payment order for a gift
    gift = {"handed_on": w.today.isoformat()}
    asked = finance.post(f"/commission/payouts/{item_id}/hand-over", data=gift)
    assert asked.status_code == 422  # the confirmation page: nothing recorded yet
    assert translated(app, "Yes, record the hand-over", "kk") in asked.text
    session.rollback()
    assert session.scalars(select(Payout)).all() == []
    handed = finance.post(f"/commission/payouts/{item_id}/hand-over", data={**gift, **YES})
    assert handed.status_code == 302
    session.rollback()
    line = session.get(BudgetLine, w.line_id)
    assert (line.committed_tiyn, line.disbursed_tiyn) == (0, 20_000_00)
    assert session.scalars(select(Payout)).one().status == "handed_over"
    # A settled reward is refused before any confirmation is asked for.
    voided = finance.post(f"/commission/payouts/{item_id}/void", data={"void-reason": "қате"})
    assert voided.status_code == 409


def test_failed_payment_then_void_releases_and_cannot_be_paid(app, session):
    w = _world(session)
    nomination_id = _nominate(app, session, w)
    item_id = _approve(app, session, w, nomination_id)
    finance = _client(app, "finance@demo.kz")
    failed = finance.post(
        f"/commission/payouts/{item_id}/fail",
        data={"fail-iban": IBAN, "fail-order_number": "ПП-3", "fail-reason": "Банк қайтарды"},
    )
    assert failed.status_code == 302
    retry = finance.get(f"/commission/payouts/{item_id}")
    assert "Банк қайтарды" in retry.text and 'name="key"' in retry.text  # may be retried
    key = re.search(r'name="key" type="hidden" value="([0-9a-f]{32})"', retry.text).group(1)
    void = {"void-reason": "Бас тартты"}
    unconfirmed = finance.post(f"/commission/payouts/{item_id}/void", data=void)
    assert unconfirmed.status_code == 422 and "Бас тартты" in unconfirmed.text
    session.rollback()
    assert session.get(BudgetLine, w.line_id).committed_tiyn > 0  # nothing released yet
    voided = finance.post(f"/commission/payouts/{item_id}/void", data={**void, **YES})
    assert voided.status_code == 302
    session.rollback()
    line = session.get(BudgetLine, w.line_id)
    assert (line.committed_tiyn, line.disbursed_tiyn) == (0, 0)
    assert 'name="key"' not in finance.get(f"/commission/payouts/{item_id}").text
    late = finance.post(
        f"/commission/payouts/{item_id}/pay",
        data={
            "iban": IBAN,
            "order_number": "ПП-4",
            "order_date": w.today.isoformat(),
            "amount": "100",
            "key": key,
            "confirmed": "yes",
        },
    )
    assert late.status_code == 409
    assert (
        translated(app, "This reward has been voided and can no longer be paid.", "kk") in late.text
    )
    session.rollback()
    assert session.get(BudgetLine, w.line_id).disbursed_tiyn == 0


def test_coordinator_puts_a_supported_initiative_forward_from_its_page(app, session):
    import sober
    from tests.factories.commission import setup as commission_setup
    from tests.factories.sober import supported_initiative

    s = commission_setup(session)
    initiative = supported_initiative(session, s)
    session.commit()
    client = app.test_client()
    login_as(client, "coordinator@demo.kz")
    page = client.get(f"/sober/initiatives/{initiative.id}")
    assert page.status_code == 200 and "nominate-recipient" in page.text
    bad = client.post(
        f"/commission/initiatives/{initiative.id}/nominate",
        data={"nominate-recipient": "team", "nominate-reward_form": "thanks"},
    )
    assert bad.status_code == 400
    ok = client.post(
        f"/commission/initiatives/{initiative.id}/nominate",
        data={
            "nominate-recipient": "team",
            "nominate-justification": "Ауылды біріктірді",
            "nominate-reward_form": "certificate",
            "nominate-unit": "mci",
        },
    )
    assert ok.status_code == 302
    session.rollback()
    made = session.scalars(
        select(Nomination).where(Nomination.initiative_id == initiative.id)
    ).one()
    assert (made.purpose, made.status, made.member_id) == (
        "sober_settlement_incentives",
        "submitted",
        None,
    )
    assert sober.can_be_nominated(initiative)
    listed = client.get(f"/sober/initiatives/{initiative.id}")
    assert made.recipient in listed.text


@pytest.mark.both_databases  # LIMIT and OFFSET bound as parameters
def test_a_long_agenda_comes_a_page_at_a_time_and_a_paper_vote_keeps_its_page(
    app, session, monkeypatch
):
    """A region's agenda may hold a couple of hundred items: the session's page shows them a
    page at a time, and a vote entered from paper on page 2 brings the secretary back there."""
    from portal.commission import session_views
    from tests.factories import commission as fx

    s = fx.setup(session)
    nomination_ids = []
    for _ in range(3):
        member, contribution_ids = fx.nominee(session)
        nomination_ids.append(fx.nominate(session, s, member, contribution_ids).id)
    sitting = fx.plan_sitting(session, s, nomination_ids, on_paper=True)
    fx.open_sitting(session, s, sitting, fx.FOUR)
    session.commit()
    items = session.scalars(
        select(AgendaItem).where(AgendaItem.session_id == sitting.id).order_by(AgendaItem.position)
    ).all()
    monkeypatch.setattr(session_views, "AGENDA_PAGE", 2)
    secretary = _client(app, "secretary@demo.kz")
    url = f"/commission/sessions/{sitting.id}"
    first = secretary.get(url)
    assert first.status_code == 200
    assert [f'id="item-{i.id}"' in first.text for i in items] == [True, True, False]
    assert f'href="{url}?page=2"' in first.text
    second = secretary.get(f"{url}?page=2")
    assert [f'id="item-{i.id}"' in second.text for i in items] == [False, False, True]
    last = items[2]
    action = f"{url}/items/{last.id}/votes?page=2"
    assert f'action="{action}"' in second.text
    prefix = f"i{last.id}-"
    voted = secretary.post(
        action, data={prefix + "commission_member_id": s.members["chair"], prefix + "choice": "for"}
    )
    assert voted.status_code == 302 and voted.headers["Location"].endswith(f"{url}?page=2")
    session.rollback()
    assert [v.choice for v in session.get(AgendaItem, last.id).votes] == ["for"]
    # A page past the end is the last one; a step taken from page 1 comes back to page 1.
    assert f'id="item-{last.id}"' in secretary.get(f"{url}?page=9").text
    first_item = items[0]
    prefix = f"i{first_item.id}-"
    back = secretary.post(
        f"{url}/items/{first_item.id}/votes",
        data={prefix + "commission_member_id": s.members["chair"], prefix + "choice": "for"},
    )
    assert back.status_code == 302 and back.headers["Location"].endswith(url)
