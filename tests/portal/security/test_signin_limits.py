"""Sign-in limits that stop guessers and sprayers, not owners or offices (issue 17: 2, 3)."""

from __future__ import annotations

from tests.conftest import DEMO_PASSWORD
from tests.portal.security.signin_steps import retry_text

PHONE_SPELLINGS = [
    "+7 (701) 765-43-21",
    "87017654321",
    "+7 701 765 43 21",
    "8-701-765-43-21",
    "+77017654321",
    "8 (701) 7654321",
]
PASSWORD = "the owner's own passphrase"


def _citizens(app, count: int, *, phone: str | None = None) -> list[str]:
    """Create ``count`` citizens (the first with ``phone``); return their e-mails."""
    from sqlalchemy import select

    from core import accounts, places
    from portal.extensions import db

    with app.app_context():
        unit_id = db.session.scalar(select(places.AdminUnit.id).limit(1))
        emails = [f"person{i}@example.kz" for i in range(count)]
        for i, email in enumerate(emails):
            accounts.create_user(
                db.session,
                email=email,
                phone=phone if i == 0 else None,
                full_name=f"Person {i}",
                preferred_language="kk",
                unit_id=unit_id,
                password=PASSWORD,
                actor_id=None,
            )
        db.session.commit()
        db.session.remove()
    return emails


def _try(client, login: str, password: str, address: str):
    return client.post(
        "/login",
        data={"login": login, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_wrong_passwords_in_any_spelling_of_a_phone_are_stopped(app):
    _citizens(app, 1, phone="+77017654321")
    client = app.test_client()
    statuses = [
        _try(client, PHONE_SPELLINGS[i % len(PHONE_SPELLINGS)], "wrong guess", "10.9.9.9")
        for i in range(25)
    ]
    codes = [r.status_code for r in statuses]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    limited = statuses[-1]
    assert int(limited.headers["Retry-After"]) <= 300
    assert retry_text(app, limited) in limited.text


def test_an_attacker_at_one_address_cannot_stop_the_owner_at_another(app):
    (owner,) = _citizens(app, 1)
    attacker = app.test_client()
    for _ in range(5):
        assert _try(attacker, owner.upper(), "guess", "203.0.113.66").status_code == 401
    assert _try(attacker, owner, "guess", "203.0.113.66").status_code == 429
    # The owner, at their own address, signs in with the right password at once.
    assert _try(app.test_client(), owner, PASSWORD, "198.51.100.7").status_code == 302


def test_an_attack_from_many_addresses_slows_new_browsers_not_the_owners_device(app):
    (owner,) = _citizens(app, 1)
    device = app.test_client()
    assert _try(device, owner, PASSWORD, "198.51.100.7").status_code == 302  # the device cookie
    device.post("/logout")
    botnet = [_try(app.test_client(), owner, "guess", f"203.0.113.{i}") for i in range(1, 23)]
    codes = [r.status_code for r in botnet]
    # 20 failures put the account under attack; then an untrusted browser gets a turn a minute.
    assert codes[:21] == [401] * 21 and codes[21] == 429
    slowed = _try(app.test_client(), owner, PASSWORD, "192.0.2.50")
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) <= 60
    assert retry_text(app, slowed) in slowed.text
    # The browser the owner signed in on before is not slowed, even on another network.
    assert _try(device, owner, PASSWORD, "192.0.2.99").status_code == 302


def test_an_office_behind_one_address_is_not_locked_out(app):
    """Thirty colleagues behind one NAT each mistype once, then sign in; the 31st is not held."""
    people = 30
    emails = _citizens(app, people + 1)
    office = "192.0.2.10"
    for email in emails[:people]:
        browser = app.test_client()
        assert _try(browser, email, "mistyped", office).status_code == 401
        assert _try(browser, email, PASSWORD, office).status_code == 302
    assert _try(app.test_client(), emails[people], PASSWORD, office).status_code == 302


def test_spraying_accounts_from_one_address_is_stopped(app):
    targets = [
        "admin@demo.kz",
        "coordinator@demo.kz",
        "registrar@demo.kz",
        "deputy@demo.kz",
        "volunteer@demo.kz",
    ] + [f"guess{i}@example.kz" for i in range(10)]
    sprayer = app.test_client()
    codes = [_try(sprayer, t, DEMO_PASSWORD + "!", "203.0.113.200").status_code for t in targets]
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
    # Another address, and the sprayed accounts' owners there, are not affected.
    owner = _try(app.test_client(), "volunteer@demo.kz", DEMO_PASSWORD, "10.0.0.1")
    assert owner.status_code == 302
