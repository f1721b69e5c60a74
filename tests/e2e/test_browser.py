"""In a real browser (Debian chromium through Playwright): sign in, switch language, phone size."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import CI, DEMO_PASSWORD
from tests.e2e.conftest import CHROMIUM, photograph, serving

pytestmark = pytest.mark.e2e


@pytest.fixture
def live_db(sqlite_template, tmp_path):
    db = tmp_path / "e2e.sqlite3"
    shutil.copy(sqlite_template, db)
    return db


@pytest.fixture
def live(live_db):
    with serving(f"sqlite:///{live_db}") as live:
        yield live


@pytest.fixture
def live_url(live):
    return live.url


def _sent_code(db: Path, email: str) -> str:
    """Read the sign-up code the portal wrote to ``email`` (the mailbox of this test)."""
    import json
    import sqlite3

    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT params FROM notification WHERE email = ? AND kind = 'signup.code'"
            " ORDER BY id DESC LIMIT 1",
            (email,),
        ).fetchone()
    return json.loads(row[0])["code"]


@pytest.fixture
def production_live_url(live_db):
    """A live portal hashing as production does: the demo password is rehashed on sign-in."""
    with serving(f"sqlite:///{live_db}", production_hashing=True) as live:
        yield live.url


def test_sign_in_switch_language_and_screenshot_on_a_phone(production_live_url, browser):
    live_url = production_live_url
    page = browser.new_page(viewport={"width": 360, "height": 740}, locale="kk-KZ")
    page.goto(f"{live_url}/login")
    assert page.locator("html").get_attribute("lang") == "kk"
    page.get_by_label("E-mail немесе телефон").fill("admin@demo.kz")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{live_url}/")
    # The admin's saved language is English; switch to Russian with the header buttons.
    page.get_by_role("button", name="Open the menu").click()
    page.get_by_role("button", name="Русский").click()
    # The switch is a POST and a redirect: wait for the new page, not the old one's load state
    # (under load the assertion ran before the navigation and read the English page).
    page.wait_for_function("document.documentElement.lang === 'ru'")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Добро пожаловать")
    # Nothing may be wider than the phone: no horizontal scrolling (read once both stylesheets
    # have applied, as below).
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    page.goto(f"{live_url}/admin/users")
    assert "Пользователи" in page.content()
    photograph(page, "users-ru-360.png", full_page=True)
    # Starting the audit check from the browser moves the progress bar to 100 %.
    page.goto(f"{live_url}/admin/audit")
    page.get_by_role("button", name="Проверить сейчас").click()
    page.wait_for_selector("#job-result:not(.d-none)", timeout=30_000)
    assert page.locator("#job-bar").inner_text() == "100%"
    photograph(page, "job-ru-360.png", full_page=True)


def test_ci_has_a_browser():
    if CI:
        assert Path(CHROMIUM).exists(), "CI must install Debian's chromium (.ci/run does)"


def _sign_in(browser, live_url, login):
    page = browser.new_page(viewport={"width": 360, "height": 740}, locale="en-US")
    page.goto(f"{live_url}/login")
    page.locator("#login").fill(login)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_url}/")
    return page


def _choose_unit(page, kato):
    # The picker shows names (finding 8); the KATO code is in the option's search text.
    value = page.locator(f'#unit_id option[data-search*="{kato}"]').first.get_attribute("value")
    page.locator("#unit_id").select_option(value)


def _press(page, name):
    page.get_by_role("button", name=name).click()
    page.wait_for_load_state()


def _press_confirmed(page):
    """Press "Yes, …" on an irreversible step's confirmation page (issue 19, finding 4)."""
    page.locator("form.confirm-step button[type=submit]").click()
    page.wait_for_load_state()


def test_apply_vet_register_print_verify_and_suspend(live_url, live_db, browser):
    from core.iin import make_iin

    iin = make_iin(__import__("datetime").date(1991, 4, 2), "female", 4321)
    citizen = browser.new_page(viewport={"width": 360, "height": 740}, locale="ru-RU")
    citizen.goto(f"{live_url}/signup")
    assert citizen.locator("html").get_attribute("lang") == "ru"
    citizen.locator("#full_name").fill("Мадина Омарова")
    citizen.locator("#email").fill("madina@example.kz")
    citizen.locator("#preferred_language").select_option("ru")
    _choose_unit(citizen, "354030100")
    citizen.locator("#password").fill("a long enough passphrase")
    citizen.locator("#confirm").fill("a long enough passphrase")
    citizen.locator("main form button[type=submit]").click()
    citizen.wait_for_url(f"{live_url}/signup/code")
    citizen.locator("#code").fill(_sent_code(live_db, "madina@example.kz"))
    citizen.locator("main form button[type=submit]").click()
    citizen.wait_for_url(f"{live_url}/apply")
    citizen.locator("input[name=kind][value=patrol_member]").check()
    _choose_unit(citizen, "354030100")
    citizen.locator("#iin").fill(iin)
    citizen.locator("#phone").fill("+7 701 765 43 21")
    citizen.locator("#address").fill("Ботақара, Бейбітшілік 4")
    for box in ("is_citizen", "no_criminal_record", "not_on_register", "consent"):
        citizen.locator(f"#{box}").check()
    citizen.locator("main form button[type=submit]").click()
    citizen.wait_for_url(f"{live_url}/my")
    assert "Подано" in citizen.content()

    police = _sign_in(browser, live_url, "coordinator@demo.kz")
    police.goto(f"{live_url}/volunteers/applications")
    police.get_by_role("link", name="Мадина Омарова").click()
    police.wait_for_load_state()
    application_url = police.url
    # The coordinator's language is Kazakh (the demo account's choice).
    _press(police, "Полиция тексеруіне алу")
    police.get_by_role("link", name="Тексеруден өтті").click()  # to its confirmation page
    _press_confirmed(police)
    _press(police, "Әкімдікке өтінішхат жіберу")

    akimat = _sign_in(browser, live_url, "registrar@demo.kz")
    akimat.goto(application_url)
    akimat.locator("main a[href$='/register/confirm']").click()
    _press_confirmed(akimat)
    akimat.locator("dd a").last.click()  # the certificate number links to the member page
    akimat.wait_for_load_state()
    member_url = akimat.url
    akimat.goto(member_url + "/certificate")
    photograph(akimat, "certificate-kk-360.png", full_page=True)
    link = akimat.locator("#certificate-qr .text-break").inner_text()
    assert akimat.locator("#certificate-qr img").get_attribute("src").startswith("data:image/svg")

    public = browser.new_page(viewport={"width": 360, "height": 740}, locale="en-US")
    public.goto(link)
    assert "This certificate is valid." in public.content()
    assert "М. О." in public.content() and iin not in public.content()

    akimat.goto(member_url)
    # Suspension is an act after a hearing (issue 20); leaving the register is the member's own.
    akimat.locator("#status").select_option("withdrawn")
    akimat.locator("#reason").fill("Өз еркімен шықты")
    akimat.locator("#status").locator("xpath=ancestor::form").locator("button").click()
    akimat.wait_for_load_state()
    public.reload()
    assert "NOT VALID" in public.content()
    photograph(public, "verify-en-360.png", full_page=True)
    assert public.evaluate("document.documentElement.scrollWidth") <= 360


def test_volunteer_does_their_part_on_a_360px_phone(live, browser):
    import datetime as dt

    from core import clock
    from core.db import utcnow
    from portal.extensions import db
    from tests.factories.volunteers import unit, user
    from volunteers import shifts

    live_url = live.url
    # A shift running now in the volunteer's village, planned and joined yesterday.
    with live.app.app_context():
        from sqlalchemy import select

        from volunteers.models import Member

        now = utcnow()
        (running,) = shifts.plan_shift(
            db.session,
            unit_id=unit(db.session, "354030100").id,
            patrol_unit_id=None,
            place="Ботақара, вокзал алаңы",
            starts_at=now - dt.timedelta(minutes=5),
            ends_at=now + dt.timedelta(hours=2),
            capacity=3,
            supervisor_id=None,
            actor_id=user(db.session, "coordinator@demo.kz").id,
            now=now - dt.timedelta(days=1),
        )
        volunteer = user(db.session, "volunteer@demo.kz")
        # The saved language wins over the browser's: read this test's screens in English.
        volunteer.preferred_language = "en"
        user(db.session, "coordinator@demo.kz").preferred_language = "en"
        shifts.sign_up(
            db.session,
            shift_id=running.id,
            member_id=db.session.scalar(select(Member.id).where(Member.user_id == volunteer.id)),
            actor_id=volunteer.id,
            now=now - dt.timedelta(days=1),
        )
        db.session.commit()
    # The coordinator plans tomorrow's evening shift in the browser.
    coordinator = _sign_in(browser, live_url, "coordinator@demo.kz")
    coordinator.goto(f"{live_url}/shifts/new")
    _choose_unit(coordinator, "354030100")
    coordinator.locator("#place").fill("Ботақара, мектеп маңы")
    tomorrow = clock.local_date(utcnow()) + dt.timedelta(days=1)
    coordinator.locator("#day").fill(tomorrow.isoformat())
    coordinator.locator("#start").fill("19:00")
    coordinator.locator("#end").fill("23:00")
    coordinator.locator("#capacity").fill("4")
    coordinator.locator("main form button[type=submit]").click()
    coordinator.wait_for_load_state()
    assert "Ботақара, мектеп маңы" in coordinator.content()
    # The volunteer, on a phone: sign up, check in on the running shift, check out, log.
    phone = _sign_in(browser, live_url, "volunteer@demo.kz")
    phone.goto(f"{live_url}/my/shifts")
    card = phone.locator("article", has_text="Ботақара, мектеп маңы")
    card.get_by_role("button", name="Sign up").click()
    phone.wait_for_load_state()
    assert "You are signed up for the shift." in phone.content()
    phone.locator("article", has_text="Ботақара, вокзал алаңы").get_by_role(
        "button", name="Check in"
    ).click()
    phone.wait_for_load_state()
    assert "Checked in" in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    photograph(phone, "my-shifts-en-360.png", full_page=True)
    phone.locator("article", has_text="Ботақара, вокзал алаңы").get_by_role(
        "button", name="Check out"
    ).click()
    phone.wait_for_load_state()
    # Minutes after the check-in the check-out is confirmed first (issue 19, finding 4).
    phone.get_by_role("button", name="Yes, check out").click()
    phone.wait_for_load_state()
    assert "waiting for confirmation" in phone.content()
    phone.goto(f"{live_url}/my/contributions")
    phone.locator("summary").click()
    phone.locator("#kind").select_option("preventive_event")
    phone.locator("#occurred_on").fill(clock.local_date(utcnow()).isoformat())
    phone.locator("#description").fill("Мектепте құқықтық сабақ өткіздім")
    phone.get_by_role("button", name="Send for confirmation").click()
    phone.wait_for_load_state()
    assert "logged for confirmation" in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    photograph(phone, "my-contributions-en-360.png", full_page=True)
    # The coordinator confirms it from the queue.
    coordinator.goto(f"{live_url}/contributions/queue")
    row = coordinator.locator("tr", has_text="Мектепте құқықтық сабақ өткіздім")
    row.locator("input[type=checkbox]").check()
    coordinator.locator("#action").select_option("confirm")
    coordinator.get_by_role("button", name="Apply to the ticked").click()
    coordinator.wait_for_load_state()
    assert "1 contribution(s) confirmed." in coordinator.content()


def test_budget_decision_needs_a_second_officer_and_shows_to_deputies(live, browser):
    from sqlalchemy import select

    import demo
    from budget.models import BudgetLine
    from core import accounts
    from portal.extensions import db

    live_url = live.url
    with live.app.app_context():
        demo.load_budget(db.session)
        for login in ("finance@demo.kz", "finance2@demo.kz", "deputy@demo.kz"):
            accounts.find_by_login(db.session, login).preferred_language = "en"
        db.session.commit()
        line = db.session.scalars(select(BudgetLine).order_by(BudgetLine.id)).first()
        line_id, approved = line.id, line.approved_tiyn
        region_id = accounts.find_by_login(db.session, "finance@demo.kz").unit_id
    officer = _sign_in(browser, live_url, "finance@demo.kz")
    officer.set_viewport_size({"width": 1200, "height": 900})
    officer.goto(f"{live_url}/finance/decisions/new")
    officer.locator("#unit_id").select_option(str(region_id))
    officer.locator("#kind").select_option("clarification")
    officer.locator("#number").fill("41/377")
    officer.locator("#decided_on").fill("2026-11-20")
    officer.locator("#session_number").fill("41")
    officer.locator("#reference").fill("https://karaganda-maslikhat.example.kz/41-377")
    officer.locator("#changes-0-line_id").select_option(str(line_id))
    officer.locator("#changes-0-amount").fill("1 250 000,50")
    officer.get_by_role("button", name="Enter the decision").click()
    officer.wait_for_load_state()
    assert "41/377" in officer.content()
    decision_url = officer.url
    # The officer who entered it is not offered verification (the server refuses it too).
    assert "another finance officer must verify it" in officer.content()
    assert officer.get_by_role("button", name="verify").count() == 0
    second = _sign_in(browser, live_url, "finance2@demo.kz")
    second.goto(decision_url)
    second.get_by_role("button", name="verify").click()
    second.wait_for_load_state()
    deputy = _sign_in(browser, live_url, "deputy@demo.kz")
    deputy.goto(f"{live_url}/finance/lines/{line_id}")
    expected = f"{(approved + 125_000_050) // 100:,}".replace(",", "\u00a0") + ",50\u00a0₸"
    assert expected in deputy.locator("main").inner_text()
    assert "41/377" in deputy.content()
    assert deputy.evaluate("document.documentElement.scrollWidth") <= 360
    photograph(deputy, "budget-line-en-360.png", full_page=True)


def test_quarter_path_from_candidates_to_payout_in_the_browser(live, browser):
    from sqlalchemy import select

    from budget.models import BudgetLine
    from core import accounts, clock
    from core.db import utcnow
    from portal.extensions import db
    from tests.factories import commission as ch

    live_url = live.url
    with live.app.app_context():
        s = ch.setup(db.session, members=4)
        member, _ids = ch.nominee(db.session, contributions=2, points=9)
        name, member_id = member.full_name, member.id
        for uid in [*s.users.values(), s.coordinator_id]:
            db.session.get(accounts.User, uid).preferred_language = "en"
        accounts.find_by_login(db.session, "finance@demo.kz").preferred_language = "en"
        db.session.commit()
        logins = {label: db.session.get(accounts.User, uid).email for label, uid in s.users.items()}
        line_id = s.line_id

    def sign_in(login):
        demo_users = ("chair@demo.kz", "secretary@demo.kz", "member@demo.kz")
        password = DEMO_PASSWORD if login in demo_users else None
        page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="en-US")
        page.goto(f"{live_url}/login")
        page.locator("#login").fill(login)
        page.locator("#password").fill(password or "commission member 1")
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        assert page.url == f"{live_url}/", (login, page.locator("main").inner_text()[:300])
        return page

    # The coordinator picks the member from last quarter's candidates and nominates them.
    coordinator = _sign_in(browser, live_url, "coordinator@demo.kz")
    coordinator.goto(f"{live_url}/commission/candidates?year=2026&quarter=3")
    coordinator.locator(f"a[href*='/candidates/{member_id}/nominate']").click()
    coordinator.wait_for_load_state()
    for box in coordinator.locator("input[name=contribution_ids]").all():
        box.check()
    coordinator.locator("#justification").fill("Reported offenses twice this quarter")
    coordinator.locator("#reward_form").select_option("cash")
    coordinator.locator("#amount").fill("10")
    coordinator.locator("#unit").select_option("mci")
    coordinator.get_by_role("button", name="Submit the nomination").click()
    coordinator.wait_for_load_state()
    assert "43\u00a0250,00\u00a0₸" in coordinator.locator("main").inner_text()
    # The secretary plans a session, puts the nomination on it and opens it with four present.
    secretary = sign_in(logins["secretary"])
    secretary.goto(f"{live_url}/commission/sessions")
    secretary.locator("#held_on").fill(clock.local_date(utcnow()).isoformat())
    secretary.locator("#place_kk").fill("Әкімдік, 2-зал")
    secretary.locator("#place_ru").fill("Акимат, зал 2")
    secretary.get_by_role("button", name="Plan the session").click()
    secretary.wait_for_load_state()
    secretary.locator("input[name=nomination_ids]").first.check()
    secretary.get_by_role("button", name="Add to the agenda").click()
    secretary.wait_for_load_state()
    for box in secretary.locator("input[name=present]").all():
        box.check()
    secretary.get_by_role("button", name="Record attendance and open").click()
    secretary.wait_for_load_state()
    session_url = secretary.url
    assert "Quorum met" in secretary.locator("main").inner_text()
    # Every member present votes from their own screen.
    for label in ("chair", "secretary", "member2", "member3"):
        voter = secretary if label == "secretary" else sign_in(logins[label])
        voter.goto(f"{live_url}/commission/my-sessions")
        assert "For" in voter.locator("main").inner_text(), (
            label,
            voter.locator("main").inner_text()[:400],
        )
        voter.get_by_role("button", name="For", exact=True).first.click()
        voter.wait_for_load_state()
    secretary.goto(session_url)
    # Each irreversible step goes through its confirmation page (issue 19, finding 4).
    secretary.get_by_role("link", name="Close the session and decide").click()
    secretary.get_by_role("button", name="Yes, close the session and decide").click()
    secretary.wait_for_load_state()
    secretary.get_by_role("link", name="Finalise the minutes").click()
    secretary.get_by_role("button", name="Yes, finalise the minutes").click()
    secretary.wait_for_load_state()
    assert name in secretary.locator("main").inner_text()
    # Payment comes after the akimat's act, recorded on the final minutes.
    secretary.locator("#number").fill("127")
    secretary.locator("#date").fill(clock.local_date(utcnow()).isoformat())
    secretary.get_by_role("button", name="Record the act").click()
    secretary.wait_for_load_state()
    assert "127" in secretary.locator("main").inner_text()
    # Finance pays; a second click of the same form pays nothing more.
    finance = _sign_in(browser, live_url, "finance@demo.kz")
    finance.goto(f"{live_url}/commission/payouts")
    finance.get_by_role("link", name=name).first.click()
    finance.wait_for_load_state()
    finance.locator("#iban").fill("KZ86 125K ZT50 0410 0100")
    finance.locator("#order_number").fill("PO-7781")
    finance.locator("#order_date").fill(clock.local_date(utcnow()).isoformat())
    finance.get_by_role("button", name="Record the payment").click()
    # A double click on the confirmation records the payment once.
    finance.get_by_role("button", name="Yes, record the payment").dblclick()
    finance.wait_for_load_state()
    from playwright.sync_api import expect

    expect(finance.locator("main")).to_contain_text("PO-7781")
    live.settle()  # the second click's request too
    with live.app.app_context():
        line = db.session.get(BudgetLine, line_id)
        assert (line.committed_tiyn, line.disbursed_tiyn) == (0, 10 * ch.MCI_2026)
        assert db.session.scalar(select(BudgetLine.id).where(BudgetLine.id == line_id))


@pytest.fixture
def strict_live_url(sqlite_template, tmp_path):
    """A live portal as deployed: no demo waiver of two-factor sign-in."""
    db = tmp_path / "strict.sqlite3"
    shutil.copy(sqlite_template, db)
    with serving(f"sqlite:///{db}", DEMO_MFA_WAIVER=False) as live:
        yield live.url


def test_an_official_enrols_an_authenticator_then_signs_in_with_codes(strict_live_url, browser):
    import pyotp

    url = strict_live_url
    page = browser.new_page(viewport={"width": 360, "height": 740}, locale="en-US")
    page.goto(f"{url}/login")
    page.locator("#login").fill("finance@demo.kz")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    # The budget is out of reach until a second factor is set up.
    page.goto(f"{url}/finance/lines")
    page.wait_for_url(f"{url}/account/two-factor")
    assert "demo-banner" not in page.content()
    assert page.locator("main img[src^='data:image/svg+xml']").count() == 1
    secret = page.locator("main code").inner_text().strip()
    page.locator("#code").fill(pyotp.TOTP(secret).now())
    page.locator("main form button[type=submit]").click()
    # The codes' page, loaded with both stylesheets: under load the width was once read with
    # Bootstrap's applied and not yet the portal's, where the brand is 382 px wide.
    page.locator(".recovery-codes li").first.wait_for()
    page.wait_for_load_state("load")
    codes = page.locator(".recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    photograph(page, "recovery-codes-en-360.png", full_page=True)
    page.goto(f"{url}/finance/lines")
    assert page.locator("h1").count() == 1 and "/finance/lines" in page.url

    # Next time: password, then a recovery code (the app's current code was just used).
    other = browser.new_page(viewport={"width": 360, "height": 740}, locale="en-US")
    other.goto(f"{url}/login")
    other.locator("#login").fill("finance@demo.kz")
    other.locator("#password").fill(DEMO_PASSWORD)
    other.locator("main form button[type=submit]").click()
    other.wait_for_url(f"{url}/login/code")
    other.locator("#code").fill(codes[0])
    other.locator("main form button[type=submit]").click()
    other.wait_for_url(f"{url}/")
    other.goto(f"{url}/finance/lines")
    assert "/finance/lines" in other.url
