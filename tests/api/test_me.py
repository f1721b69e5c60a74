"""The signed-in person's own records through the API: what their own pages show them."""

from __future__ import annotations

import pytest
from markupsafe import escape
from sqlalchemy import select, update

from core import accounts, clock, notifications, payout_accounts
from core.db import utcnow
from core.notifications import Notification
from incentives import queries as reward_queries
from incentives.models import Payout
from tests.api.conftest import Api
from tests.conftest import login_as, translated
from tests.factories.volunteers import make_member, user
from volunteers import certificates
from volunteers.models import Member

PROBLEM = "application/problem+json"
IBAN = "KZ86125KZT5004100100"


def _refused(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.content_type.startswith(PROBLEM), response.content_type
    return response.get_json()


def _note(app, login: str, kind: str, params: dict) -> int:
    from portal.extensions import db

    with app.app_context():
        person = accounts.find_by_login(db.session, login)
        note = notifications.queue_message(
            db.session,
            user_id=person.id,
            email=person.email,
            kind=kind,
            params=params,
            language=person.preferred_language,
        )
        db.session.info.pop("portal_pending_notifications", None)  # the inbox needs no mail
        db.session.commit()
        return note.id


def test_me_shows_the_account_with_the_iban_masked(app, client, api, session):
    volunteer = user(session, "volunteer@demo.kz")
    payout_accounts.set_own_iban(session, user_id=volunteer.id, iban=IBAN)
    session.commit()
    _refused(api.get("/api/v1/me"), 401)
    login_as(client, "volunteer@demo.kz")
    response = api.get("/api/v1/me")
    assert response.status_code == 200, response.text
    body = response.get_json()
    assert (body["id"], body["full_name"], body["email"]) == (
        volunteer.id,
        volunteer.full_name,
        "volunteer@demo.kz",
    )
    assert body["payout_iban"] == "KZ** **** **** 0100"
    assert IBAN not in response.text
    assert body["unit_name"] and isinstance(body["unread_notifications"], int)


def test_memberships_and_the_certificate_are_my_own(app, client, api, session):
    today = clock.local_date(utcnow())
    own = make_member(session, 9601, applicant=user(session, "volunteer@demo.kz"), today=today)
    other = make_member(session, 9602, today=today)
    session.commit()
    login_as(client, "volunteer@demo.kz")

    listed = api.get("/api/v1/me/memberships").get_json()["items"]
    mine = session.scalars(
        select(Member.id).where(Member.user_id == user(session, "volunteer@demo.kz").id)
    ).all()
    assert sorted(m["id"] for m in listed) == sorted(mine)
    assert other.id not in [m["id"] for m in listed]
    entry = next(m for m in listed if m["id"] == own.id)
    assert entry["certificate_no"] == own.certificate_no
    assert entry["verify_url"].endswith(f"/verify/{own.verify_token}")
    assert (entry["status"], entry["can_sign_up"]) == ("active", True)
    assert "iin" not in entry

    response = api.get(f"/api/v1/me/certificate?member_id={own.id}")
    assert response.status_code == 200, response.text
    body = response.get_json()
    assert (body["member_id"], body["valid"], body["not_valid_reason"]) == (own.id, True, None)
    assert body["expires_on"] == own.expires_on.isoformat()
    assert own.iin not in response.text
    _refused(api.get(f"/api/v1/me/certificate?member_id={other.id}"), 404)
    body = _refused(api.get("/api/v1/me/certificate?member_id=x", lang="ru"), 422)
    assert body["errors"] == [
        {"parameter": "member_id", "detail": translated(app, "Enter a whole number.", "ru")}
    ]

    # A suspended membership: the certificate is not valid, and says why in the reader's language.
    session.execute(update(Member).where(Member.id == own.id).values(status="suspended"))
    session.commit()
    body = api.get(f"/api/v1/me/certificate?member_id={own.id}", lang="ru").get_json()
    assert body["valid"] is False
    assert body["not_valid_reason"] == translated(
        app, certificates.NOT_VALID_MSGIDS["suspended"], "ru"
    )


def test_a_person_without_a_membership_has_no_certificate(app, client, api):
    login_as(client, "coordinator@demo.kz")
    assert api.get("/api/v1/me/memberships").get_json() == {"items": []}
    _refused(api.get("/api/v1/me/certificate"), 404)


def test_notifications_are_my_inbox_rendered_in_my_language_and_paged(app, client, api, session):
    mine = _note(
        app,
        "volunteer@demo.kz",
        "application.status",
        {"application_id": 3, "status": "refused", "reason": "Құжат жоқ"},
    )
    _note(app, "volunteer@demo.kz", "password.reset_code", {"code": "123456", "minutes": 15})
    theirs = _note(
        app,
        "coordinator@demo.kz",
        "application.status",
        {"application_id": 4, "status": "refused", "reason": "Бөтен"},
    )
    login_as(client, "volunteer@demo.kz")
    volunteer_id = user(session, "volunteer@demo.kz").id
    expected = session.scalars(notifications.inbox(volunteer_id)).all()

    seen, cursor = [], None
    while True:
        url = "/api/v1/me/notifications?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url, lang="ru")
        assert page.status_code == 200, page.text
        seen += page.get_json()["items"]
        cursor = page.get_json()["next_cursor"]
        if cursor is None:
            break
    assert [n["id"] for n in seen] == [n.id for n in expected]  # newest first, none twice
    assert theirs not in [n["id"] for n in seen]
    assert "123456" not in str(seen)  # a reset code is no inbox message
    first = next(n for n in seen if n["id"] == mine)
    assert "Құжат жоқ" in first["text"]
    assert first["read_at"] is None and first["kind"] == "application.status"
    # Rendered in the reader's language (ru asked for), as the inbox page renders it.
    from flask_babel import force_locale

    from portal.mail import render

    with app.test_request_context(), force_locale("ru"):
        assert first["subject"] == render(session.get(Notification, mine), language="ru").subject

    # A cursor of another list is refused at its parameter.
    other_list = api.get("/api/v1/me/shifts?limit=1").get_json()
    if other_list["next_cursor"]:
        body = _refused(
            api.get(f"/api/v1/me/notifications?cursor={other_list['next_cursor']}"), 422
        )
        assert body["errors"][0]["parameter"] == "cursor"
    _refused(api.get("/api/v1/me/notifications?cursor=forged"), 422)


@pytest.mark.demo_data
def test_rewards_show_what_my_rewards_shows_with_the_iban_masked(app, client, api, session):
    volunteer = user(session, "volunteer@demo.kz")
    nominations = session.scalars(reward_queries.rewards_of(volunteer.id)).all()
    assert nominations  # the demo volunteer was nominated
    # Paid to an IBAN: the API shows it masked as the page does.
    session.execute(update(Payout).values(iban=IBAN))
    session.commit()
    login_as(client, "volunteer@demo.kz")
    response = api.get("/api/v1/me/rewards")
    assert response.status_code == 200, response.text
    items = response.get_json()["items"]
    assert [r["id"] for r in items] == [n.id for n in nominations]
    assert all(r["status"] != "draft" for r in items)
    assert IBAN not in response.text
    paid = [r["payout"] for r in items if r["payout"] and r["payout"]["iban"]]
    assert all(p["iban"] == "KZ** **** **** 0100" for p in paid)
    page = client.get("/commission/my-rewards")
    assert page.status_code == 200
    for reward in items:
        assert str(escape(reward["commission_name"])) in page.text
        if reward["payout"] and reward["payout"]["status"] in ("paid", "handed_over"):
            assert reward["payout"]["gross_tiyn"] is not None
    # Someone else sees none of them.
    other = app.test_client()
    login_as(other, "coordinator@demo.kz")
    assert Api(other).get("/api/v1/me/rewards").get_json()["items"] == []


def test_signed_out_callers_get_401_everywhere(api):
    for url in (
        "/api/v1/me",
        "/api/v1/me/memberships",
        "/api/v1/me/certificate",
        "/api/v1/me/rewards",
        "/api/v1/me/notifications",
    ):
        body = _refused(api.get(url, lang="ru"), 401)
        assert body["status"] == 401
