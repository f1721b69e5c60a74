"""Commission records: a funded line, a policy, a commission, nominees, sessions and payments."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

from budget import appropriations
from core import accounts, places
from incentives import nominations, payouts, policy, sessions
from tests.factories.volunteers import iin_for, make_member
from volunteers.activity_models import Contribution

DISTRICT = "354000000"
HELD_ON = dt.date(2026, 10, 15)
MCI_2026 = 432_500  # tiyn
_SUB_PROGRAMS = itertools.count(500)
_SERIALS = itertools.count(6100)


@dataclasses.dataclass
class Setup:
    """What a commission test works with."""

    unit_id: int
    line_id: int
    commission_id: int
    members: dict[str, int]  # role label -> commission member id
    users: dict[str, int]  # role label -> user id
    coordinator_id: int


def funded_line(
    session, approved_tiyn: int, unit_id: int, year: int = 2026, purpose: str = "citizen_rewards"
) -> int:
    finance = accounts.find_by_login(session, "finance@demo.kz")
    admin = accounts.find_by_login(session, "admin@demo.kz")
    program = appropriations.create_program(
        session,
        actor_id=finance.id,
        unit_id=unit_id,
        fiscal_year=year,
        functional_group="03",
        sub_function="6",
        administrator="252",
        program="003",
        sub_program=str(next(_SUB_PROGRAMS)),
        name_kk="Азаматтарды көтермелеу",
        name_ru="Поощрение граждан",
        administrator_body="Аудан әкімінің аппараты",
    )
    line = appropriations.create_line(
        session, program_id=program.id, purpose=purpose, actor_id=finance.id
    )
    decision = appropriations.enter_decision(
        session,
        unit_id=unit_id,
        number="30/1",
        decided_on=dt.date(year - 1, 12, 20),
        session_number="XXX",
        kind="adoption",
        reference="adilet.zan.kz",
        amendments=[(line.id, approved_tiyn)],
        actor_id=finance.id,
    )
    appropriations.verify_decision(session, decision_id=decision.id, actor_id=admin.id)
    return line.id


def _user(session, email: str, unit_id: int) -> int:
    found = accounts.find_by_login(session, email)
    if found:
        return found.id
    user = accounts.create_user(
        session,
        email=email,
        phone=None,
        full_name=email.split("@")[0].title(),
        unit_id=unit_id,
        preferred_language="kk",
        password="commission member 1",
        actor_id=None,
    )
    accounts.grant_role(session, user_id=user.id, role="member", unit_id=unit_id, actor_id=None)
    return user.id


def setup(
    session,
    *,
    approved_tiyn: int = 1_000_000 * 100,
    members: int = 5,
    chair_breaks_tie: bool = True,
    coordinator_on_commission: bool = False,
) -> Setup:
    unit = places.by_kato(session, DISTRICT)
    line_id = funded_line(session, approved_tiyn, unit.id)
    admin = accounts.find_by_login(session, "admin@demo.kz")
    policy.set_policy(
        session,
        unit_id=unit.id,
        effective_from=dt.date(2026, 1, 1),
        resolution="Бұқар жырау ауданы әкімдігінің 2026 жылғы 10 қаңтардағы № 5 қаулысы",
        forms=["thanks", "certificate", "valuable_gift", "cash"],
        cash_cap_mci=15,
        annual_cap_mci=20,
        points={},
        quorum=(2, 3),
        chair_breaks_tie=chair_breaks_tie,
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
    roles = ["chair", "secretary", "member", "member", "member", "member", "member"][:members]
    emails = ["chair@demo.kz", "secretary@demo.kz", "member@demo.kz"] + [
        f"member{i}@demo.kz" for i in range(2, 6)
    ]
    ids, users = {}, {}
    for n, (role, email) in enumerate(zip(roles, emails, strict=False)):
        label = role if role != "member" else f"member{n}"
        if coordinator_on_commission and n == len(roles) - 1:
            email, label = "coordinator@demo.kz", "coordinator"
        user_id = _user(session, email, unit.id)
        ids[label] = policy.add_member(
            session,
            commission_id=commission.id,
            user_id=user_id,
            role=role,
            position_kk="",
            position_ru="",
            term_from=dt.date(2026, 1, 1),
            term_to=None,
            actor_id=admin.id,
        ).id
        users[label] = user_id
    coordinator = accounts.find_by_login(session, "coordinator@demo.kz")
    session.commit()
    return Setup(unit.id, line_id, commission.id, ids, users, coordinator.id)


def nominee(session, *, contributions: int = 2, applicant=None, points: int = 5):
    """A registered member with confirmed contributions; returns (member, contribution ids)."""
    # A serial without a check digit makes the IIN of the next one (core.iin.make_iin): skip
    # it, or two nominees of one test would be one person.
    serial = next(_SERIALS)
    while iin_for(serial)[7:11] != f"{serial:04d}":
        serial = next(_SERIALS)
    member = make_member(session, serial, applicant=applicant, today=dt.date(2026, 3, 18))
    ids = []
    for n in range(contributions):
        c = Contribution(
            member_id=member.id,
            unit_id=member.unit_id,
            kind="offense_reported",
            occurred_on=dt.date(2026, 9, 1 + n),
            description="102-ге хабарлады",
            reference=f"KUSP-{member.id}-{n}",
            status="confirmed",
            points=points,
            decided_by_id=accounts.find_by_login(session, "registrar@demo.kz").id,
            decided_at=dt.datetime(2026, 9, 20, tzinfo=dt.UTC),
        )
        session.add(c)
        session.flush()
        ids.append(c.id)
    return member, ids


def nominate(session, s: Setup, member, contribution_ids, *, form="cash", mci=10, **kw):
    amount = 0 if form in ("thanks", "certificate") else mci * MCI_2026
    return nominations.nominate(
        session,
        commission_id=s.commission_id,
        member_id=member.id,
        contribution_ids=contribution_ids,
        justification="Белсенді қатысқаны үшін",
        form=form,
        amount_tiyn=kw.get("amount_tiyn", amount),
        entered_in="mci",
        nominator_id=kw.get("nominator_id", s.coordinator_id),
        today=kw.get("today", dt.date(2026, 10, 1)),
    )


NOW = dt.datetime(2026, 10, 15, 6, 0, tzinfo=dt.UTC)
FOUR = ("chair", "secretary", "member2", "member3")  # a quorum of the five
IBAN = "KZ86125KZT5004100100"


def plan_sitting(session, s: Setup, nomination_ids, *, held_on=HELD_ON, on_paper=False):
    """Plan a session of the commission and put the nominations on its agenda."""
    sitting = sessions.plan(
        session,
        commission_id=s.commission_id,
        held_on=held_on,
        place_kk="Әкімдік, мәжіліс залы",
        place_ru="Әкімдік, мәжіліс залы",
        on_paper=on_paper,
        actor_id=s.users["secretary"],
    )
    sessions.add_to_agenda(
        session, session_id=sitting.id, nomination_ids=nomination_ids, actor_id=s.users["secretary"]
    )
    return sitting


def open_sitting(session, s: Setup, sitting, present):
    """Open the session with the labelled members present."""
    return sessions.open_session(
        session,
        session_id=sitting.id,
        present_ids={s.members[p] for p in present},
        actor_id=s.users["secretary"],
        now=NOW,
    )


def vote_all(session, s: Setup, sitting, choices: dict[str, str]):
    """Each labelled present member votes the same on every item (own vote)."""
    for item in sitting.items:
        for label, choice in choices.items():
            sessions.vote(
                session,
                item_id=item.id,
                commission_member_id=s.members[label],
                choice=choice,
                reason=None,
                entered_by_id=s.users[label],
            )


def close_session(session, s: Setup, nomination_ids, *, held_on=HELD_ON, final=False, act=False):
    """A session that approved every nomination with FOUR present and closed; ``final`` adds
    final minutes and ``act`` the akimat's act. Committed."""
    sitting = plan_sitting(session, s, nomination_ids, held_on=held_on)
    open_sitting(session, s, sitting, FOUR)
    vote_all(session, s, sitting, dict.fromkeys(FOUR, "for"))
    sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=NOW)
    if final:
        sessions.finalize_minutes(
            session,
            session_id=sitting.id,
            text_kk="ХАТТАМА",
            text_ru="ПРОТОКОЛ",
            actor_id=s.users["secretary"],
            now=NOW,
        )
    if act:
        sessions.record_act(
            session, session_id=sitting.id, number="№ 412", date=HELD_ON, actor_id=1
        )
    session.commit()
    return sitting


def approved_item(session, s: Setup, *, mci=10, form="cash"):
    """A new nominee's reward approved by a closed session, minutes not final yet:
    (sitting, item)."""
    member, ids = nominee(session)
    n = nominate(session, s, member, ids, mci=mci, form=form)
    sitting = close_session(session, s, [n.id])
    item = sitting.items[0]
    assert item.outcome == "approved"
    return sitting, item


def approved_cash_item(session, s: Setup, mci=10, *, act=True):
    """A new nominee's cash reward approved; with ``act``, final minutes and the act too, so
    it can be paid."""
    member, ids = nominee(session)
    n = nominate(session, s, member, ids, mci=mci)
    return close_session(session, s, [n.id], final=act, act=act).items[0]


def pay_item(session, item, order_date, mci=10):
    """Record the payment order of an approved cash item (committed)."""
    payouts.record_payment(
        session,
        item_id=item.id,
        iban=IBAN,
        order_number=f"ПП-{item.id}",
        order_date=order_date,
        amount_tiyn=mci * MCI_2026,
        idempotency_key=f"pay-{item.id}",
        actor_id=1,
        today=dt.date(2026, 12, 31),
    )
    session.commit()
