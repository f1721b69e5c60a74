"""The certificate as a document: bilingual, with its issuer and full dates, marked when void."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, update

from core import accounts, clock
from core.doc_numbers import numbered, without_sign
from core.official_dates import official_date
from demo.commission import NAMES
from tests.conftest import login_as
from tests.pdf_reading import pdf_streams
from volunteers import certificates, register
from volunteers.models import Member

pytestmark = pytest.mark.demo_data

STAMP = "ЖАРАМСЫЗ / НЕ ДЕЙСТВИТЕЛЬНО / NOT VALID"
RED = b"0.6902 0 0.1255 rg"  # the stamp's colour in the PDF's content


def _member(session) -> Member:
    volunteer = accounts.find_by_login(session, "volunteer@demo.kz")
    return session.scalars(select(Member).where(Member.user_id == volunteer.id)).one()


def _pdf_content(pdf: bytes) -> bytes:
    return b"".join(pdf_streams(pdf))


def _subject(pdf: bytes) -> str:
    found = re.search(rb"/Subject <feff([0-9a-f]+)>", pdf)
    return bytes.fromhex(found.group(1).decode()).decode("utf-16-be") if found else ""


def test_why_not_valid_by_status_and_dates():
    day = dt.date(2026, 11, 16)

    def member(status, issued, expires):
        return Member(status=status, issued_on=issued, expires_on=expires)

    year = dt.timedelta(days=365)
    assert certificates.why_not_valid(member("active", day - year, day), day) is None
    for status in ("suspended", "expelled", "withdrawn", "expired"):
        assert certificates.why_not_valid(member(status, day - year, day + year), day) == status
    past = member("active", day - 2 * year, day - dt.timedelta(days=1))
    assert certificates.why_not_valid(past, day) == "expired"
    assert certificates.why_not_valid(member("active", day + year, day + 2 * year), day)


def test_a_number_typed_with_its_sign_is_printed_with_one():
    for typed in ("№ 512-қ", "№512-қ", "512-қ", " №  № 512-қ ", "No. 512-қ"):
        assert without_sign(typed) == "512-қ"
        assert numbered(typed) == "№ 512-қ"
    assert numbered("") == "" and without_sign("№") == ""


def test_a_valid_certificate_is_bilingual_with_its_issuer_and_full_dates(app, session):
    member = _member(session)
    client = app.test_client()
    login_as(client, "registrar@demo.kz")
    page = client.get(f"/volunteers/members/{member.id}/certificate").text
    kk = page[page.index('id="certificate-kk"') : page.index('id="certificate-ru"')]
    ru = page[page.index('id="certificate-ru"') :]
    assert NAMES["body_kk"] in kk and NAMES["body_ru"] in ru
    assert "КУӘЛІК" in kk and "УДОСТОВЕРЕНИЕ" in ru
    assert official_date(member.expires_on, "kk", form="nominative") in kk
    assert official_date(member.expires_on, "ru") in ru
    number = without_sign(member.certificate_no)
    assert kk.count(f"№ {number}") == 1 and ru.count(f"№ {number}") == 1 and "№ №" not in page
    assert "НЕ ДЕЙСТВИТЕЛЬНО" not in page and "ЖАРАМСЫЗ" not in page
    pdf = client.get(f"/volunteers/members/{member.id}/certificate.pdf").data
    assert pdf.startswith(b"%PDF-") and RED not in _pdf_content(pdf) and _subject(pdf) == ""


@pytest.mark.parametrize("status", ["suspended", "expelled", "expired"])
def test_a_certificate_not_in_force_says_so_in_print_pdf_and_public_check(app, session, status):
    member = _member(session)
    if status == "expired":  # the term ran out; nobody has run the expiry job yet
        today = clock.today()
        session.execute(
            update(Member)
            .where(Member.id == member.id)
            .values(issued_on=today - dt.timedelta(days=400), expires_on=today - dt.timedelta(1))
        )
    else:
        register.change_status(
            session, member_id=member.id, to_status=status, reason="Тест", actor_id=None
        )
    session.commit()
    client = app.test_client()
    login_as(client, "registrar@demo.kz")
    page = client.get(f"/volunteers/members/{member.id}/certificate").text
    assert 'id="certificate-not-valid"' in page and STAMP in page
    response = client.get(f"/volunteers/members/{member.id}/certificate.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=certificate-{member.id}.pdf"
    )
    assert RED in _pdf_content(response.data) and _subject(response.data) == STAMP
    public = app.test_client().get(f"/verify/{member.verify_token}").text
    assert 'id="certificate-not-valid"' in public and STAMP in public
    assert "alert-success" not in public
