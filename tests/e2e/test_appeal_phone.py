"""On a 360 px phone: a refused applicant reads the draft, objects, is refused with reasons,
files a complaint and sees the reviewing body's decision (the staff side through the domain)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.e2e.conftest import photograph, serving

pytestmark = pytest.mark.e2e
PASSWORD = "applicant phone 2026"
EMAIL = "phone.applicant@example.kz"
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def live(db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("the pages are the same on PostgreSQL; its steps are tested elsewhere")
    with serving(db_url) as live:
        yield live


def _staff(live, step):
    """Run ``step(session)`` as the officials would, in its own transaction on the live portal."""
    from portal.extensions import db

    with live.app.app_context():
        result = step(db.session)
        db.session.commit()
        return result


def _by(session, email):
    from core import accounts

    return accounts.find_by_login(session, email)


def _refusal_drafted(session) -> int:
    """A citizen's application petitioned to the akimat, and the registrar's notified draft."""
    from appeals import hearings
    from appeals.models import LegalGround
    from core import accounts
    from core.scope import Scope
    from tests.factories.volunteers import fields, iin_for
    from volunteers import enrolment

    person = accounts.create_user(
        session,
        email=EMAIL,
        phone=None,
        full_name="Айбек Телефонов",
        unit_id=_by(session, "volunteer@demo.kz").unit_id,
        preferred_language="en",
        password=PASSWORD,
        actor_id=None,
    )
    coordinator, registrar = _by(session, "coordinator@demo.kz"), _by(session, "registrar@demo.kz")
    today = dt.date.today()
    app = enrolment.submit_application(
        session,
        **fields(
            session,
            iin=iin_for(9321),
            applicant_id=person.id,
            email=EMAIL,
            channel="web",
            actor_id=person.id,
            today=today,
        ),
    )
    enrolment.take_check(session, application_id=app.id, actor_id=coordinator.id)
    enrolment.record_check(
        session, application_id=app.id, passed=True, reason=None, actor_id=coordinator.id
    )
    enrolment.petition(session, application_id=app.id, actor_id=coordinator.id, today=today)
    scope = Scope.of(registrar, "registrar")
    code = session.scalar(
        select(LegalGround.code).where(LegalGround.act_kind == "refuse_registration")
    )
    found = hearings.draft(
        session,
        act_kind="refuse_registration",
        subject_id=app.id,
        grounds=[code],
        grounds_text="You are registered at an address outside the district",
        actor_id=registrar.id,
        scope=scope,
    )
    hearings.notify(session, hearing_id=found.id, actor_id=registrar.id, scope=scope)
    return found.id


def _fits(page) -> None:
    page.wait_for_load_state("load")  # both stylesheets applied before the width is read
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide on a 360 px phone"


def test_refused_applicant_complains_on_a_phone(browser, live):
    url = live.url
    hearing_id = _staff(live, _refusal_drafted)
    page = browser.new_page(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    page.goto(f"{url}/login")
    page.locator("#login").fill(EMAIL)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{url}/")

    # The preliminary decision: its grounds and the term to object.
    page.goto(f"{url}/my/cases")
    page.locator(f"a[href='/my/cases/hearings/{hearing_id}']").click()
    # A link's click returns before the next page arrives: read it once it has.
    page.wait_for_url(f"{url}/my/cases/hearings/{hearing_id}")
    assert "You are registered at an address outside the district" in page.content()
    assert "This is not yet a decision" in page.content()
    _fits(page)
    page.locator("#body").fill("I live in the district: here is my lease.")
    page.get_by_role("button", name="Send my objection").click()
    page.wait_for_url(f"{url}/my/cases/hearings/{hearing_id}")
    assert "Your objection has been attached to the case" in page.content()
    photograph(page, "appeal-phone-objection.png", full_page=True)

    def adopt(session):
        from sqlalchemy import update

        from appeals import hearings
        from appeals.models import Hearing
        from core import clock
        from core.scope import Scope

        # A week passes: the notice was received long enough ago for the act (no exception).
        today = clock.today()
        notified_at = session.get(Hearing, hearing_id).notified_at
        session.execute(
            update(Hearing)
            .where(Hearing.id == hearing_id)
            .values(
                notified_at=notified_at - dt.timedelta(days=7),
                objection_due_on=today - dt.timedelta(days=2),
                earliest_act_on=today,
            )
        )
        registrar = _by(session, "registrar@demo.kz")
        hearings.adopt(
            session,
            hearing_id=hearing_id,
            act_reasons="The lease names another district; the objection does not change it",
            actor_id=registrar.id,
            scope=Scope.of(registrar, "registrar"),
        )

    _staff(live, adopt)
    page.reload()
    assert "The lease names another district" in page.content()
    assert "How to complain" in page.content()
    _fits(page)

    # The complaint, typed on the phone.
    page.get_by_role("link", name="File a complaint").click()
    page.locator("#iin").fill(_staff(live, lambda s: _application_iin(s, hearing_id)))
    page.locator("#address").fill("Botakara, Abai st 5")
    page.locator("#act_challenged").fill("The refusal to register me")
    page.locator("#grounds").fill("My lease is in the district")
    page.locator("#request").fill("Register me")
    page.locator("#confirmed").check()
    _fits(page)
    page.get_by_role("button", name="File the complaint").click()
    page.wait_for_url(f"{url}/my/cases/complaints/*")
    assert "Your complaint has been filed" in page.content()
    complaint_id = int(page.url.rsplit("/", 1)[1])

    def review(session):
        from appeals import complaints
        from core.scope import Scope

        registrar = _by(session, "registrar@demo.kz")
        complaints.forward(
            session,
            complaint_id=complaint_id,
            actor_id=registrar.id,
            scope=Scope.of(registrar, "registrar"),
        )
        complaints.decide(
            session,
            complaint_id=complaint_id,
            outcome="cancel",
            reasons="The lease is in the district: the refusal is cancelled",
            actor_id=_by(session, "reviewer@demo.kz").id,
        )

    _staff(live, review)
    page.reload()
    content = page.content()
    assert "Act cancelled" in content
    assert "The lease is in the district: the refusal is cancelled" in content
    assert "go to court within 1 month" in content
    _fits(page)
    photograph(page, "appeal-phone-decision.png", full_page=True)
    page.context.close()


def _application_iin(session, hearing_id: int) -> str:
    from appeals.models import Hearing
    from volunteers.models import Application

    return session.get(Application, session.get(Hearing, hearing_id).subject_id).iin
