"""S6: fields a role may not set have no effect, whatever a request adds to a form.

Each form that creates or changes a record gets its normal valid data plus fields it does not
have (``status``, ``role``, ``approved_by``, ``verified_by_id``, ``committed``, amounts in tiyn,
``line_id`` of another line, ``unit_id`` of another district, ``user_id``, ``is_active``,
``session_epoch``, ``points``, ``iin``, actors and decision dates). The record must hold the
values the role may set, never the injected ones; where a real field of the form is aimed at
another district, another line or another user, the request is refused and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import func, select

from tests.conftest import close_app, login, make_app, wait_for_jobs
from tests.portal.security.signin_steps import sign_up
from tests.portal.security.world import PLAIN_LOGIN, clone_world, table_counts

V, C, R = "volunteer@demo.kz", "coordinator@demo.kz", "registrar@demo.kz"
F, D, A = "finance@demo.kz", "deputy@demo.kz", "admin@demo.kz"


class World:
    def __init__(self, app, ids):
        self.app, self.ids = app, ids
        self._clients: dict[str, object] = {}
        with app.app_context():
            from core import accounts, places
            from portal.extensions import db

            self.users = {
                login: accounts.find_by_login(db.session, login).id
                for login in (V, C, R, F, D, A, PLAIN_LOGIN, "finance2@demo.kz")
            }
            self.osakarovka = places.by_kato(db.session, "355630100").id  # another district
            self.botakara = places.by_kato(db.session, "354030100").id  # the coordinators'
            db.session.remove()

    def client(self, who: str | None):
        if who is None:
            return self.app.test_client()
        if who not in self._clients:
            client = self.app.test_client()
            assert login(client, who).status_code == 302, who
            self._clients[who] = client
        return self._clients[who]

    def query(self, fn):
        """Run ``fn(session)`` on a fresh session and return its (plain) result."""
        from portal.database import read_only
        from portal.extensions import db

        wait_for_jobs(self.app)  # what a request queued (e-mails) has run
        with self.app.app_context(), read_only():
            try:
                return fn(db.session)
            finally:
                db.session.remove()

    def row(self, model, record_id) -> dict:
        """The columns of one record, as a dict (None when it does not exist)."""

        def read(session):
            found = session.get(model, record_id)
            return None if found is None else _columns(found)

        return self.query(read)

    def last(self, model) -> dict | None:
        """The columns of the newest record of ``model``."""

        def read(session):
            found = session.scalars(select(model).order_by(model.id.desc()).limit(1)).first()
            return None if found is None else _columns(found)

        return self.query(read)

    def count(self, model) -> int:
        return self.query(lambda s: s.scalar(select(func.count()).select_from(model)))

    def injected(self) -> dict:
        """Fields no form of the portal has, with values that would matter if they were used."""
        ids, users = self.ids, self.users
        return {
            "status": "approved",
            "role": "admin",
            "approved_by": str(users[A]),
            "approved_by_id": str(users[A]),
            "verified_by_id": str(users["finance2@demo.kz"]),
            "verified_at": "2026-01-01T00:00:00",
            "committed": "999999999",
            "committed_tiyn": "999999999",
            "approved_tiyn": "999999999",
            "disbursed_tiyn": "999999999",
            "amount_tiyn": "999999999",
            "line_id": str(ids["other_line"]),
            "unit_id": str(self.osakarovka),
            "user_id": str(users[A]),
            "is_active": "0",
            "session_epoch": "999",
            "points": "999",
            "iin": "870101300129",
            "member_id": str(ids["other_member"]),
            "commission_id": "999999",
            "decided_by_id": str(users[A]),
            "nominator_id": str(users[A]),
            "created_by_id": str(users[A]),
            "entered_by_id": str(users[A]),
            "submitted_by_id": str(users[A]),
            "recorded_by_id": str(users["finance2@demo.kz"]),
            "granted_by_id": str(users["finance2@demo.kz"]),
            "deputy_id": str(users[A]),
            "applicant_id": str(users[A]),
            "check_outcome": "passed",
            "outcome": "approved",
            "channel": "import",
            "source": "import",
            "taken": "99",
            "quorum_met": "y",
            "password_hash": "x",
            "confirmed_at": "2026-01-01T00:00:00",
            "decided_at": "2026-01-01T00:00:00",
            "deadline": "2099-12-31",
            "expires_on": "2099-12-31",
            "certificate_no": "HACKED-1",
            "id": "1",
        }


def _why(response) -> str:
    """The status and the messages a page shows (alerts, field errors), for a failure."""
    text = response.get_data(as_text=True)
    found = re.findall(r'class="(?:alert[^"]*|invalid-feedback[^"]*)"[^>]*>\s*([^<]+)', text)
    return f"{response.status_code}: {[m.strip() for m in found][:6]}"


def _columns(record) -> dict:
    return {c.key: getattr(record, c.key) for c in record.__table__.columns}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def w(request, tmp_path_factory):
    url, ids, drop = clone_world(request, request.param, tmp_path_factory.mktemp("mass"))
    app = make_app(url, FRESH_LOGIN_SECONDS=24 * 3600)
    yield World(app, ids)
    close_app(app)
    drop()


def _refused_without_writes(w: World, client, url: str, data: dict) -> None:
    before = table_counts(w.app)
    response = client.post(url, data=data)
    assert 400 <= response.status_code < 500, (url, response.status_code)
    assert table_counts(w.app) == before, f"a refused {url} wrote rows"


def _today() -> dt.date:
    from core import clock
    from core.db import utcnow

    return clock.local_date(utcnow())


# ---- enrolment and the register ---------------------------------------------------------------
def _application_data(w: World, unit_id: int, serial: int) -> dict:
    from core.iin import make_iin
    from volunteers import enrolment

    consent = w.query(lambda s: enrolment.current_consent(s, _today()).version)
    return {
        "kind": "public_assistant",
        "unit_id": str(unit_id),
        "patrol_unit_id": "0",
        "iin": make_iin(dt.date(1990, 5, 17), "male", serial),
        "full_name": "Тестов Тест",
        "phone": f"+7701555{serial:04d}",
        "address": "Ботақара, 1",
        "is_citizen": "y",
        "no_criminal_record": "y",
        "not_on_register": "y",
        "consent": "y",
        "consent_version": consent,
    }


def test_application_status_and_actor_cannot_be_set(w):
    from volunteers.models import Application

    client = w.client(PLAIN_LOGIN)
    data = {**w.injected(), **_application_data(w, w.botakara, 7101)}
    data["police_due_on"] = "2099-12-31"
    data["registered_at"] = "2026-01-01T00:00:00"
    response = client.post("/apply", data=data)
    assert response.status_code == 302, _why(response)
    app = w.last(Application)
    assert app["applicant_id"] == w.users[PLAIN_LOGIN]
    assert app["entered_by_id"] in (None, w.users[PLAIN_LOGIN])
    assert (app["status"], app["channel"], app["check_outcome"]) == ("submitted", "web", None)
    assert app["check_by_id"] is None and app["registered_at"] is None
    assert app["unit_id"] == w.botakara and app["police_due_on"] < dt.date(2099, 1, 1)


def test_walk_in_cannot_be_filed_in_another_district_or_for_someone(w):
    from volunteers.models import Application

    client = w.client(C)
    outside = _application_data(w, w.osakarovka, 7102)
    _refused_without_writes(w, client, "/volunteers/applications/new", outside)
    data = {**w.injected(), **_application_data(w, w.botakara, 7103)}
    assert client.post("/volunteers/applications/new", data=data).status_code == 302
    app = w.last(Application)
    assert app["applicant_id"] is None and app["entered_by_id"] == w.users[C]
    assert (app["status"], app["channel"], app["check_outcome"]) == ("submitted", "walk_in", None)


def test_member_status_form_changes_only_the_status(w):
    from volunteers.models import Member

    member_id = w.ids["member"]
    before = w.row(Member, member_id)
    data = {
        **w.injected(),
        # Suspending goes through a hearing now; withdrawing is still the form's own step.
        "status": "withdrawn",
        "reason": "Өз өтініші бойынша",
        "patrol_unit_id": str(w.ids["other_patrol_unit"]),
        "full_name": "Басқа Адам",
        "issued_on": "2000-01-01",
    }
    response = w.client(R).post(f"/volunteers/members/{member_id}/status", data=data)
    assert response.status_code == 302, _why(response)
    after = w.row(Member, member_id)
    assert after["status"] == "withdrawn"
    for column in (
        "unit_id",
        "patrol_unit_id",
        "user_id",
        "iin",
        "full_name",
        "issued_on",
        "expires_on",
        "certificate_no",
    ):
        assert after[column] == before[column], column


def test_member_cannot_join_a_patrol_of_another_district(w):
    from volunteers.models import Member

    member_id = w.ids["own_member"]
    before = w.row(Member, member_id)
    url = f"/volunteers/members/{member_id}/unit"
    client = w.client(C)
    _refused_without_writes(
        w, client, url, {"patrol_unit_id": str(w.ids["other_patrol_unit"]), "status": "expelled"}
    )
    data = {**w.injected(), "patrol_unit_id": "0", "status": "expelled"}
    assert client.post(url, data=data).status_code == 302
    after = w.row(Member, member_id)
    assert after["patrol_unit_id"] is None
    assert {k: v for k, v in after.items() if k != "patrol_unit_id"} == {
        k: v for k, v in before.items() if k != "patrol_unit_id"
    }


def test_patrol_unit_cannot_be_placed_in_another_district(w):
    from volunteers.models import PatrolUnit

    client = w.client(C)
    data = {"name": "Жаңа патруль", "unit_id": str(w.osakarovka), "coordinator_id": "0"}
    data["leader_member_id"] = "0"
    _refused_without_writes(w, client, "/volunteers/units/new", {**w.injected(), **data})
    data["unit_id"] = str(w.botakara)
    assert client.post("/volunteers/units/new", data={**w.injected(), **data}).status_code == 302
    saved = w.last(PatrolUnit)
    assert saved["unit_id"] == w.botakara and saved["name"] == "Жаңа патруль"


# ---- shifts and contributions -----------------------------------------------------------------
def _shift_data(w: World, **overrides) -> dict:
    data = {
        "unit_id": str(w.botakara),
        "patrol_unit_id": "0",
        "place": "Ботақара, орталық алаң",
        "day": (_today() + dt.timedelta(days=3)).isoformat(),
        "start": "19:00",
        "end": "23:00",
        "capacity": "4",
        "supervisor_id": "0",
        "repeat_weeks": "0",
    }
    data.update(overrides)
    return data


def test_shift_status_taken_and_creator_cannot_be_set(w):
    from volunteers.activity_models import Shift

    client = w.client(C)
    outside = _shift_data(w, unit_id=str(w.osakarovka))
    _refused_without_writes(w, client, "/shifts/new", outside)
    data = {**w.injected(), "status": "cancelled", "series": "x", "closed_at": "2026-01-01"}
    data.update(_shift_data(w))
    assert client.post("/shifts/new", data=data).status_code == 302
    shift = w.last(Shift)
    assert (shift["status"], shift["taken"], shift["created_by_id"]) == ("planned", 0, w.users[C])
    assert shift["unit_id"] == w.botakara and shift["closed_at"] is None


def test_shift_edit_cannot_move_it_or_change_its_status(w):
    from volunteers.activity_models import Shift

    shift_id = w.ids["shift"]
    before = w.row(Shift, shift_id)
    from core import clock

    start = before["starts_at"].astimezone(clock.zone())
    end = before["ends_at"].astimezone(clock.zone())
    data = {
        **w.injected(),
        "status": "cancelled",
        "patrol_unit_id": str(w.ids["other_patrol_unit"]),
        "place": "Жаңа орын",
        "day": start.date().isoformat(),
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
        "capacity": str(before["capacity"]),
        "supervisor_id": "0",
    }
    if end.date() > start.date():
        data["overnight"] = "y"
    response = w.client(C).post(f"/shifts/{shift_id}/edit", data=data)
    assert response.status_code == 302, _why(response)
    after = w.row(Shift, shift_id)
    assert after["place"] == "Жаңа орын"
    for column in ("unit_id", "patrol_unit_id", "status", "taken", "created_by_id", "series"):
        assert after[column] == before[column], column


def test_contribution_status_points_and_member_cannot_be_set(w):
    from volunteers.activity_models import Contribution
    from volunteers.models import Member

    own = w.row(Member, w.ids["own_member"])
    data = {
        **w.injected(),
        "status": "confirmed",
        "kind": "preventive_event",
        "occurred_on": _today().isoformat(),
        "description": "Мектепте құқықтық дәріс",
    }
    assert w.client(V).post("/my/contributions", data=data).status_code == 302
    logged = w.last(Contribution)
    assert logged["member_id"] == own["id"] and logged["unit_id"] == own["unit_id"]
    assert (logged["status"], logged["points"], logged["decided_by_id"]) == ("logged", None, None)
    assert logged["logged_by_id"] == w.users[V]

    # A coordinator logs for the member of the address, not the one named in the form.
    member = w.ids["member"]
    response = w.client(C).post(f"/volunteers/members/{member}/contributions", data=data)
    assert response.status_code == 302, _why(response)
    logged = w.last(Contribution)
    assert logged["member_id"] == member and logged["status"] == "logged"
    assert logged["points"] is None and logged["decided_by_id"] is None


def test_confirmation_awards_the_rules_points_not_the_posted_ones(w):
    from volunteers.activity_models import Contribution

    contribution_id = w.ids["logged_contribution"]
    data = {**w.injected(), "action": "confirm", "ids": str(contribution_id), "status": "rejected"}
    response = w.client(C).post("/contributions/queue", data=data)
    after = w.row(Contribution, contribution_id)
    if response.status_code == 302:
        assert after["status"] == "confirmed" and after["points"] != 999
        assert after["decided_by_id"] == w.users[C]
    else:  # four eyes: the coordinator logged it; then nothing changed at all
        assert 400 <= response.status_code < 500
        assert after["status"] == "logged" and after["points"] is None


# ---- the budget -------------------------------------------------------------------------------
def test_program_and_line_amounts_cannot_be_set(w):
    from budget.models import BudgetLine, BudgetProgram

    client = w.client(F)
    program = {
        **w.injected(),
        "unit_id": str(w.ids["district"]),
        "fiscal_year": "2027",
        "functional_group": "03",
        "sub_function": "1",
        "administrator": "252",
        "program": "004",
        "sub_program": "",
        "name_kk": "Бағдарлама",
        "name_ru": "Программа",
        "administrator_body": "Әкім аппараты",
    }
    assert client.post("/finance/programs/new", data=program).status_code == 302
    created = w.last(BudgetProgram)
    assert created["unit_id"] == w.ids["district"] and created["fiscal_year"] == 2027
    line = {**w.injected(), "program_id": str(created["id"]), "purpose": "citizen_rewards"}
    assert client.post("/finance/lines/new", data=line).status_code == 302
    opened = w.last(BudgetLine)
    assert opened["program_id"] == created["id"]
    amounts = (opened["approved_tiyn"], opened["committed_tiyn"], opened["disbursed_tiyn"])
    assert amounts == (0, 0, 0)


def test_decision_is_entered_unverified_and_changes_only_its_lines(w):
    from budget.models import Amendment, BudgetLine, MaslikhatDecision

    line, other = w.ids["line"], w.ids["other_line"]
    before = {i: w.row(BudgetLine, i) for i in (line, other)}
    data = {
        **w.injected(),
        "status": "verified",
        "unit_id": str(w.ids["region"]),
        "number": "MA/1",
        "decided_on": "2026-05-15",
        "session_number": "XL",
        "kind": "clarification",
        "reference": "https://adilet.zan.kz/kaz/docs/demo",
        "changes-0-line_id": str(line),
        "changes-0-amount": "1 000",
    }
    response = w.client(F).post("/finance/decisions/new", data=data)
    assert response.status_code == 302, _why(response)
    decision = w.last(MaslikhatDecision)
    assert decision["entered_by_id"] == w.users[F]
    assert decision["verified_by_id"] is None and decision["verified_at"] is None
    changes = w.query(
        lambda s: s.execute(
            select(Amendment.line_id, Amendment.delta_tiyn).where(
                Amendment.decision_id == decision["id"]
            )
        ).all()
    )
    assert [tuple(c) for c in changes] == [(line, 100_000)]
    for i in (line, other):  # nothing applies before another officer verifies
        assert w.row(BudgetLine, i) == before[i]


# ---- the commission ---------------------------------------------------------------------------
def test_nomination_status_amount_and_member_cannot_be_set(w):
    from incentives import policy
    from incentives.models import Nomination

    member = w.ids["candidate_member"]
    client = w.client(C)
    page = client.get(f"/commission/candidates/{member}/nominate")
    assert page.status_code == 200, _why(page)
    contributions = re.findall(r'name="contribution_ids"[^>]*value="(\d+)"', page.text) or (
        re.findall(r'value="(\d+)"[^>]*name="contribution_ids"', page.text)
    )
    assert contributions, "the candidate has eligible contributions"
    data = {
        **w.injected(),
        "status": "approved",
        "contribution_ids": contributions[:2],
        "justification": "Белсенді патрульдеді",
        "reward_form": "cash",
        "amount": "2",
        "unit": "mci",
    }
    response = client.post(f"/commission/candidates/{member}/nominate", data=data)
    assert response.status_code == 302, _why(response)
    made = w.last(Nomination)
    mci = w.query(lambda s: policy.mci_tiyn(s, _today().year))
    assert made["member_id"] == member and made["nominator_id"] == w.users[C]
    assert made["commission_id"] == w.ids["commission"]
    assert made["status"] == "submitted" and made["amount_tiyn"] == 2 * mci
    assert made["purpose"] == "citizen_rewards"


def test_payment_status_amount_and_line_cannot_be_set(w):
    from budget.models import BudgetLine
    from incentives.models import AgendaItem, Nomination, Payout

    item_id = w.ids["cash_item"]
    item = w.row(AgendaItem, item_id)
    amount_tiyn = w.row(Nomination, item["nomination_id"])["amount_tiyn"]
    other_before = w.row(BudgetLine, w.ids["other_line"])
    client = w.client(F)
    page = client.get(f"/commission/payouts/{item_id}")
    key = re.search(r'name="key" type="hidden" value="([0-9a-f]{32})"', page.text)
    amount = re.search(r'<input[^>]*name="amount"[^>]*value="([^"]+)"', page.text)
    assert key and amount, "the payment form is shown with its key and amount"
    data = {
        **w.injected(),
        "status": "voided",
        "amount_tiyn": "1",
        "gross_tiyn": "1",
        "withheld_tiyn": "0",
        "net_tiyn": "1",
        "iban": "KZ86125KZT5004100100",
        "order_number": "ПП-1",
        "order_date": _today().isoformat(),
        "amount": amount.group(1).replace("&nbsp;", " "),
        "key": key.group(1),
        "confirmed": "yes",
    }
    response = client.post(f"/commission/payouts/{item_id}/pay", data=data)
    assert response.status_code == 302, _why(response)
    paid = w.last(Payout)
    assert paid["item_id"] == item_id and paid["status"] == "paid"
    assert paid["gross_tiyn"] == amount_tiyn and paid["recorded_by_id"] == w.users[F]
    assert paid["withheld_tiyn"] + paid["net_tiyn"] == amount_tiyn
    assert w.row(BudgetLine, w.ids["other_line"]) == other_before


# ---- sober settlements ------------------------------------------------------------------------
def test_declaration_indicator_and_initiative_statuses_cannot_be_set(w):
    from incentives.sober_models import IndicatorValue, Initiative, SoberDeclaration

    # Every settlement of the district has a live declaration: revoke one to declare anew.
    coordinator = w.client(C)
    revoked = coordinator.post(
        f"/sober/declarations/{w.ids['declaration_confirmed']}/revoke",
        data={"reason": "Жиналыс қайта өтеді"},
    )
    assert revoked.status_code == 302, _why(revoked)
    settlement = w.ids["sober_settlement"]
    declaration = {
        **w.injected(),
        "status": "confirmed",
        "unit_id": str(settlement),
        "gathered_on": (_today() - dt.timedelta(days=30)).isoformat(),
        "attendance": "120",
        "record_reference": "Хаттама № 9",
        "signatories-0-full_name": "Серіков Ерлан",
        "signatories-0-role": "rural_akim",
        "signatories-1-full_name": "Оспанов Арман",
        "signatories-1-role": "police_inspector",
    }
    for i in range(2, 6):
        declaration[f"signatories-{i}-role"] = "other"
    response = coordinator.post("/sober/declare", data=declaration)
    assert response.status_code == 302, _why(response)
    made = w.last(SoberDeclaration)
    assert made["unit_id"] == settlement and made["status"] == "declared"
    assert made["declared_by_id"] == w.users[C] and made["decided_by_id"] is None
    assert made["confirmed_at"] is None

    recorded = w.query(
        lambda s: set(
            s.execute(
                select(IndicatorValue.year, IndicatorValue.quarter).where(
                    IndicatorValue.unit_id == settlement,
                    IndicatorValue.kind == w.ids["indicator_kind"],
                )
            )
        )
    )
    year, quarter = next(
        (y, q)
        for y in range(_today().year - 1, 2000, -1)
        for q in (4, 3, 2, 1)
        if (y, q) not in recorded
    )
    indicator = {
        **w.injected(),
        "unit_id": str(settlement),
        "kind": w.ids["indicator_kind"],
        "year": str(year),
        "quarter": str(quarter),
        "value": "3",
    }
    response = coordinator.post("/sober/indicators/new", data=indicator)
    assert response.status_code == 302, _why(response)
    value = w.last(IndicatorValue)
    assert value["unit_id"] == settlement and value["value"] == 3
    assert value["source"] == "manual" and value["entered_by_id"] == w.users[C]

    initiative = {
        **w.injected(),
        "status": "supported",
        "unit_id": str(settlement),
        "proposer_role": "activist",
        "title": "Алкогольсіз той",
        "description": "Сипаттама",
        "measures": "Шаралар",
        "team": "Белсенділер",
        "requested_incentive": "Алғыс хат",
    }
    response = w.client(V).post("/sober/initiatives/new", data=initiative)
    assert response.status_code == 302, _why(response)
    made = w.last(Initiative)
    assert made["status"] == "submitted" and made["submitted_by_id"] == w.users[V]
    assert made["decided_by_id"] is None and made["unit_id"] == settlement


# ---- oversight --------------------------------------------------------------------------------
def test_inquiry_status_deputy_and_deadline_cannot_be_set(w):
    from budget.models import BudgetLine, BudgetProgram
    from incentives.inquiry_models import Inquiry

    line = w.ids["line"]
    unit_of_line = w.query(
        lambda s: s.scalar(
            select(BudgetProgram.unit_id)
            .join(BudgetLine, BudgetLine.program_id == BudgetProgram.id)
            .where(BudgetLine.id == line)
        )
    )
    data = {
        **w.injected(),
        "status": "closed",
        "object_type": "budget_line",
        "object_id": str(line),
        "text": "Неге төлем аз?",
    }
    response = w.client(D).post("/oversight/inquiries", data=data)
    assert response.status_code == 302, _why(response)
    asked = w.last(Inquiry)
    assert asked["deputy_id"] == w.users[D] and asked["status"] == "open"
    assert asked["unit_id"] == unit_of_line and asked["deadline"] < dt.date(2099, 1, 1)
    assert asked["closed_at"] is None and asked["answered_at"] is None


# ---- accounts and roles -----------------------------------------------------------------------
def _grants(w: World, user_id: int) -> list[tuple]:
    from core.accounts import RoleGrant

    return w.query(
        lambda s: [
            tuple(r)
            for r in s.execute(
                select(RoleGrant.role, RoleGrant.unit_id, RoleGrant.revoked_at)
                .where(RoleGrant.user_id == user_id)
                .order_by(RoleGrant.id)
            )
        ]
    )


def test_user_edit_cannot_activate_roles_epochs_or_passwords(w):
    from core.accounts import User

    target = w.ids["target_user"]
    before, grants = w.row(User, target), _grants(w, target)
    data = {
        **w.injected(),
        "full_name": "Fuzz Target Edited",
        "email": "fuzz-target@demo.kz",
        "phone": "",
        "preferred_language": "ru",
        "unit_id": str(before["unit_id"]),
        "is_active": "0",
    }
    response = w.client(A).post(f"/admin/users/{target}/edit", data=data)
    assert response.status_code == 302, _why(response)
    after = w.row(User, target)
    assert after["full_name"] == "Fuzz Target Edited"
    for column in ("is_active", "session_epoch", "password_hash", "created_at", "last_login_at"):
        assert after[column] == before[column], column
    assert _grants(w, target) == grants


def test_new_accounts_get_no_roles_from_the_form(w):
    from core.accounts import User

    suffix = uuid.uuid4().hex[:6]
    data = {
        **w.injected(),
        "full_name": "Жаңа Қызметкер",
        "email": f"new-{suffix}@demo.kz",
        "phone": "",
        "preferred_language": "kk",
        "unit_id": str(w.ids["district"]),
        "password": "a long enough password",
        "roles": "admin",
    }
    assert w.client(A).post("/admin/users/new", data=data).status_code == 302
    created = w.last(User)
    assert created["email"] == data["email"] and created["is_active"] is True
    assert created["session_epoch"] == 0 and _grants(w, created["id"]) == []

    data = {**data, "email": f"citizen-{suffix}@demo.kz", "confirm": data["password"]}
    assert sign_up(w.app, w.client(None), data).status_code == 302
    citizen = w.last(User)
    assert citizen["email"] == data["email"] and citizen["is_active"] is True
    assert _grants(w, citizen["id"]) == []


def test_role_grant_goes_to_the_user_of_the_address(w):
    from core.accounts import RoleGrant

    target = w.ids["target_user"]
    others = {uid: _grants(w, uid) for uid in (w.users[A], w.users[F])}
    data = {
        **w.injected(),
        "role": "volunteer",
        "unit_id": str(w.ids["district"]),
        "user_id": str(w.users[F]),
        "revoked_at": "2026-01-01T00:00:00",
    }
    response = w.client(A).post(f"/admin/users/{target}/grants", data=data)
    assert response.status_code == 302, _why(response)
    grant = w.last(RoleGrant)
    assert grant["user_id"] == target and grant["granted_by_id"] == w.users[A]
    assert (grant["role"], grant["unit_id"]) == ("volunteer", w.ids["district"])
    assert grant["revoked_at"] is None
    assert {uid: _grants(w, uid) for uid in others} == others


def test_commission_member_joins_the_commission_of_the_address(w):
    from incentives.models import CommissionMember

    commission = w.ids["commission"]
    data = {
        **w.injected(),
        "commission_id": "999999",
        "user_id": str(w.ids["target_user"]),
        "role": "member",
        "position_kk": "Маман",
        "position_ru": "Специалист",
        "term_from": _today().isoformat(),
    }
    response = w.client(A).post(f"/commission/admin/commissions/{commission}", data=data)
    assert response.status_code == 302, _why(response)
    seat = w.last(CommissionMember)
    assert seat["commission_id"] == commission and seat["user_id"] == w.ids["target_user"]
    assert seat["role"] == "member"
