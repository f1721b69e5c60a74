"""The commission's names in Kazakh and in Russian: both required, corrected with an audit event."""

from __future__ import annotations

from sqlalchemy import update

from core.accounts import User
from incentives.models import Commission
from tests.conftest import audit_count, login_as, translated
from tests.factories.commission import setup

NAMES = {
    "name_kk": "Абай ауданы әкімдігі жанындағы көтермелеу комиссиясы",
    "name_ru": "Комиссия по поощрению при акимате Абайского района",
    "body_kk": "Абай ауданының әкімдігі",
    "body_ru": "Акимат Абайского района",
}


def test_commission_names_need_both_languages_and_are_audited(app, session):
    s = setup(session)
    session.commit()
    admin = app.test_client()
    login_as(admin, "admin@demo.kz")
    url = f"/commission/admin/commissions/{s.commission_id}/names"
    half = admin.post(url, data={**NAMES, "name_ru": "  ", "body_ru": ""})
    assert half.status_code == 400
    assert half.text.count('aria-invalid="true"') == 2  # at the two Russian fields
    session.rollback()
    assert session.get(Commission, s.commission_id).name_ru != NAMES["name_ru"]
    assert admin.post(url, data=NAMES).status_code == 302
    session.rollback()
    saved = session.get(Commission, s.commission_id)
    assert (saved.name_kk, saved.name_ru, saved.body_kk, saved.body_ru) == tuple(NAMES.values())
    assert audit_count(session, "commission.rename", "commission", s.commission_id) == 1
    assert admin.post(url, data=NAMES).status_code == 302  # the same names: nothing to record
    session.rollback()
    assert audit_count(session, "commission.rename", "commission", s.commission_id) == 1


def test_a_name_holding_an_iin_is_refused_with_a_message_and_changes_nothing(app, session):
    # Before issue 16's probe of every text field, the audit chain's refusal of an IIN was a 500.
    s = setup(session)
    session.execute(
        update(User).where(User.email == "admin@demo.kz").values(preferred_language="ru")
    )
    session.commit()
    admin = app.test_client()
    login_as(admin, "admin@demo.kz")
    url = f"/commission/admin/commissions/{s.commission_id}/names"
    pasted = {**NAMES, "body_ru": NAMES["body_ru"] + " 061211600012"}
    refused = admin.post(url, data=pasted)
    assert refused.status_code == 422
    message = "A name or a place may not hold a 12-digit number: it reads as an IIN."
    assert translated(app, message, "ru") in refused.text
    assert "061211600012" not in session.get(Commission, s.commission_id).body_ru
    assert audit_count(session, "commission.rename", "commission", s.commission_id) == 0
