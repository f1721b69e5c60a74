"""Public resources: no sign-in, and nothing the public pages do not show."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from markupsafe import escape
from sqlalchemy import select, text

from core import accounts, clock, places
from tests.conftest import translated
from volunteers import certificates
from volunteers.models import Member


def _member(session) -> Member:
    """A member of the register whose certificate is valid today."""
    today = clock.today()
    member = session.scalar(
        select(Member)
        .where(Member.status == "active", Member.issued_on <= today, Member.expires_on >= today)
        .order_by(Member.id)
        .limit(1)
    )
    assert member is not None
    return member


def test_a_certificate_is_checked_with_its_qr_token(app, client, api, session):
    member = _member(session)
    number, token = member.certificate_no, member.verify_token
    response = api.get(f"/api/v1/public/certificates/{number}?token={token}", lang="ru")
    assert response.status_code == 200, response.text
    found = response.get_json()
    assert set(found) == {
        "number",
        "holder",
        "kind",
        "status",
        "issued_on",
        "expires_on",
        "valid",
        "reason",
        "not_valid_mark",
    }
    assert found["number"] == number and found["kind"] == member.kind
    assert found["issued_on"] == member.issued_on.isoformat()
    assert found["expires_on"] == member.expires_on.isoformat()
    # Initials, as the check page shows them; never the name, the IIN or the token.
    page = client.get(f"/verify/{token}")
    assert found["holder"] and str(escape(found["holder"])) in page.text
    assert member.full_name not in response.text and member.iin not in response.text
    assert token not in response.text
    assert found["valid"] is True and found["status"] == "active"
    assert found["reason"] is None and found["not_valid_mark"] is None
    # The same check with the number written with its sign.
    signed = api.get(f"/api/v1/public/certificates/{quote('№ ' + number)}?token={token}")
    assert (
        signed.status_code == 200
        and signed.get_json()
        == api.get(f"/api/v1/public/certificates/{number}?token={token}").get_json()
    )


def test_a_certificate_needs_both_its_number_and_its_token(app, client, api, session):
    member, other = session.scalars(select(Member).order_by(Member.id).limit(2)).all()
    base = "/api/v1/public/certificates"
    missing = api.get(f"{base}/{member.certificate_no}")
    assert missing.status_code == 422
    assert missing.get_json()["errors"][0]["parameter"] == "token"
    for url in (
        f"{base}/{member.certificate_no}?token={other.verify_token}",
        f"{base}/{member.certificate_no}?token=guess",
        f"{base}/000000000-2026-00001?token={member.verify_token}",
        f"{base}/{member.certificate_no}?token={'x' * 41}",
    ):
        response = api.get(url)
        assert response.status_code in (404, 422), url
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert member.full_name not in response.text


def test_a_certificate_that_is_not_valid_says_why(app, client, api, session):
    member = _member(session)
    session.execute(
        text("UPDATE member SET status = 'suspended' WHERE id = :id"), {"id": member.id}
    )
    session.commit()
    url = f"/api/v1/public/certificates/{member.certificate_no}?token={member.verify_token}"
    found = api.get(url, lang="kk").get_json()
    assert found["valid"] is False and found["status"] == "suspended"
    assert found["reason"] == translated(app, certificates.NOT_VALID_MSGIDS["suspended"], "kk")
    page = client.get(f"/verify/{member.verify_token}")
    assert found["not_valid_mark"] and str(escape(found["not_valid_mark"])) in page.text
    assert api.get(url, lang="ru").get_json()["reason"] == translated(
        app, certificates.NOT_VALID_MSGIDS["suspended"], "ru"
    )


def _strings(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in ("kato", "code"):
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


@pytest.mark.demo_data
def test_sober_statistics_are_what_the_public_page_shows(app, client, api, session):
    response = api.get("/api/v1/public/sober-settlements/statistics", lang="ru")
    assert response.status_code == 200, response.text
    stats = response.get_json()
    page = client.get("/sober-settlements", headers={"Accept-Language": "ru"})
    assert page.status_code == 200
    assert stats["total"] >= 1 and stats["regions"]
    assert stats["total"] == sum(r["count"] for r in stats["regions"])
    # Every name the answer holds (places, indicator kinds) is on the page; dates are ISO.
    for value in _strings(stats):
        if value[:4].isdigit() and value[4:5] == "-":
            continue
        assert str(escape(value)) in page.text, value
    region = stats["regions"][0]
    district = region["districts"][0]
    settlement = district["settlements"][0]
    assert set(settlement) == {"unit", "gathered_on", "confirmed_on", "outlets", "trends"}
    assert set(settlement["trends"]) == {k["code"] for k in stats["kinds"]}
    assert all(set(t) == {"change_pct"} for t in settlement["trends"].values())
    assert all(set(t) == {"baseline", "after", "change_pct"} for t in district["trends"].values())
    assert region["count"] == sum(d["count"] for d in region["districts"])
    # Filtered to one region.
    only = api.get(f"/api/v1/public/sober-settlements/statistics?region={region['unit']['id']}")
    assert [r["unit"]["id"] for r in only.get_json()["regions"]] == [region["unit"]["id"]]
    elsewhere = places.by_kato(session, "390000000")
    none = api.get(f"/api/v1/public/sober-settlements/statistics?region={elsewhere.id}")
    assert none.get_json()["regions"] == [] and none.get_json()["total"] == 0
    assert api.get("/api/v1/public/sober-settlements/statistics?region=x").status_code == 422


@pytest.mark.demo_data
def test_sober_statistics_name_no_people(app, client, api, session):
    body = api.get("/api/v1/public/sober-settlements/statistics").text
    names = session.scalars(select(accounts.User.full_name)).all()
    assert names and not any(name in body for name in names if name)
