"""The minutes as documents: wholly in their language, in real paragraphs, as print, PDF, DOCX."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from core import documents
from core.documents import Block
from demo.commission import NAMES, OFFICES, PLACE
from incentives import sessions
from incentives.models import CommissionSession
from tests.conftest import login_as

pytestmark = pytest.mark.demo_data

KAZAKH_LETTERS = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"


def _final(session) -> CommissionSession:
    return session.scalars(
        select(CommissionSession).where(CommissionSession.status == "minutes_final")
    ).first()


def _texts(blocks: list[Block]) -> list[str]:
    return [b.text for b in blocks] + [i for b in blocks for i in b.items]


def test_minutes_ru_are_wholly_in_russian(session):
    sitting = _final(session)
    ru = documents.parse(sitting.minutes_ru)
    text = sitting.minutes_ru
    # The records' own Russian names: the akimat, the commission, the place, the positions.
    assert ru[0] == Block("title", NAMES["body_ru"])
    assert NAMES["name_ru"] in text and PLACE["place_ru"] in text
    assert OFFICES["chair@demo.kz"][1] in text
    for kazakh in (NAMES["name_kk"], NAMES["body_kk"], PLACE["place_kk"]):
        assert kazakh not in text
    assert not any(office[0] in text for office in OFFICES.values())
    # Members are named by their office on the commission, never "Участник".
    assert "Участник" not in text
    for role in ("Председатель комиссии", "Секретарь комиссии", "Член комиссии"):
        assert role in text
    # The table of votes, headed as a tally is in Russian records; dates in full.
    (table,) = [b for b in ru if b.kind == "table"]
    assert table.rows[0][2:5] == ("За", "Против", "Воздержались")
    assert re.search(r"\d{1,2} [а-я]+ \d{4} года", text)
    assert not re.search(r"[а-я]{3,4}\. \d{4} г\.", text)  # no "16 нояб. 2026 г."


def test_minutes_kk_are_wholly_in_kazakh(session):
    sitting = _final(session)
    kk = documents.parse(sitting.minutes_kk)
    text = sitting.minutes_kk
    assert kk[0] == Block("title", NAMES["body_kk"])
    assert NAMES["name_kk"] in text and PLACE["place_kk"] in text
    for russian in (NAMES["name_ru"], NAMES["body_ru"], PLACE["place_ru"]):
        assert russian not in text
    assert not any(office[1] in text for office in OFFICES.values())
    for role in ("Комиссия төрағасы", "Комиссия хатшысы", "Комиссия мүшесі"):
        assert role in text
    (table,) = [b for b in kk if b.kind == "table"]
    assert table.rows[0][2:5] == ("Жақтағандар", "Қарсылар", "Қалыс қалғандар")
    assert re.search(r"\d{4} жылғы \d{1,2} [а-яәғқңөұүһі]+", text)
    assert [b.kind for b in kk].count("heading") >= 5  # attendance, quorum, agenda, votes...


def test_minutes_print_page_and_deputy_view_show_paragraphs(app, session):
    sitting = _final(session)
    secretary = app.test_client()
    login_as(secretary, "secretary@demo.kz")
    deputy = app.test_client()
    login_as(deputy, "deputy@demo.kz")
    url = f"/oversight/sessions/{sitting.id}"
    printed = secretary.get(f"/commission/sessions/{sitting.id}/minutes")
    for lang in ("kk", "ru"):
        # The print page holds both texts; the deputies' page the one asked for.
        for page in (printed, deputy.get(f"{url}?minutes={lang}")):
            assert page.status_code == 200
            start = page.text.index(f'id="minutes-{lang}"')
            article = page.text[start : page.text.index("</article>", start)]
            # Real paragraphs, lists and a table, not one run-on <pre> text.
            assert article.count("<p") >= 8 and "<li>" in article and "<table" in article
            assert "<pre" not in article
            assert f'lang="{lang}" id="minutes-{lang}"' in page.text
            assert "minutes.pdf?lang=ru" in page.text


def test_the_deputies_page_shows_the_minutes_in_the_readers_language_and_links_the_other(
    app, session, monkeypatch
):
    """One text inline (a region's sitting ran to 354 KB with both, issue 16): the reader's
    language, Kazakh for an English reader, the other a link away that keeps the agenda's
    page, and both PDFs; the agenda's pager keeps the language asked for."""
    from portal.oversight import drilldown_views

    monkeypatch.setattr(drilldown_views, "SESSION_ITEMS_PAGE", 1)  # the demo agenda: pages
    sitting = _final(session)
    assert len(sitting.items) > 1
    deputy = app.test_client()
    login_as(deputy, "deputy@demo.kz")
    url = f"/oversight/sessions/{sitting.id}"
    for reader, shown, other in (("kk", "kk", "ru"), ("ru", "ru", "kk"), ("en", "kk", "ru")):
        deputy.post("/language", data={"lang": reader})
        page = deputy.get(url)
        assert page.status_code == 200
        assert f'id="minutes-{shown}"' in page.text and f'id="minutes-{other}"' not in page.text
        assert f'hreflang="{other}" href="{url}?minutes={other}#final-minutes"' in page.text
        assert f"minutes.pdf?lang={other}" in page.text and f"minutes.pdf?lang={shown}" in page.text
    asked = deputy.get(f"{url}?minutes=ru&page=2")
    assert 'id="minutes-ru"' in asked.text and 'id="minutes-kk"' not in asked.text
    assert f'href="{url}?minutes=kk&amp;page=2#final-minutes"' in asked.text  # the same page
    assert f'href="{url}?minutes=ru&amp;page=3"' in asked.text  # the pager keeps the language
    unknown = deputy.get(f"{url}?minutes=de")
    assert unknown.status_code == 200 and 'id="minutes-kk"' in unknown.text


def test_minutes_pdf_embeds_a_font_with_every_kazakh_letter(app, session):
    sitting = _final(session)
    client = app.test_client()
    login_as(client, "deputy@demo.kz")
    response = client.get(f"/commission/sessions/{sitting.id}/minutes.pdf?lang=kk")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=minutes-{sitting.id}-kk.pdf"
    )
    pdf = response.data
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
    assert b"/FontFile2" in pdf and b"DejaVuSans" in pdf
    # The text maps back to Unicode through the embedded fonts' ToUnicode tables: every
    # Kazakh letter the minutes use has its glyph there (none was dropped).
    cmaps = b"".join(re.findall(rb"beginbfchar(.*?)endbfchar", pdf, re.S))
    used = {c for c in sitting.minutes_kk if c in KAZAKH_LETTERS}
    assert len(used) >= 5, "the demo minutes use Kazakh letters"
    for letter in used:
        assert re.search(rb"<[0-9A-F]{4}> <%04X>" % ord(letter), cmaps), letter
    assert client.get(f"/commission/sessions/{sitting.id}/minutes.pdf?lang=de").status_code == 404
    stranger = app.test_client()
    login_as(stranger, "volunteer@demo.kz")
    assert stranger.get(f"/commission/sessions/{sitting.id}/minutes.pdf").status_code == 403


def test_minutes_docx_has_headings_lists_and_the_table_of_votes(app, session):
    from docx import Document

    sitting = _final(session)
    client = app.test_client()
    login_as(client, "secretary@demo.kz")
    response = client.get(f"/commission/sessions/{sitting.id}/minutes.docx?lang=ru")
    assert response.status_code == 200
    document = Document(io.BytesIO(response.data))
    assert [c.text for c in document.tables[0].rows[0].cells][2:5] == [
        "За",
        "Против",
        "Воздержались",
    ]
    styles = {p.style.name for p in document.paragraphs}
    assert {"Heading 2", "List Bullet"} <= styles
    assert NAMES["name_kk"] not in "\n".join(p.text for p in document.paragraphs)


def test_minutes_text_reads_back_what_people_typed():
    hostile = "# Ә | -x \\ |"
    blocks = [
        Block("title", hostile),
        Block("paragraph", hostile),
        Block("paragraph", "- not a list"),
        Block("heading", "## x"),
        Block("list", items=(hostile, "")),
        Block("table", rows=(("№", hostile), ("1", "a|b\\|c"))),
    ]
    text = documents.to_text(blocks)
    assert documents.parse(text) == blocks
    # Frozen minutes from before the blocks: a paragraph per line, "- " lines as a list.
    assert documents.parse("MINUTES No. 1\n\nPresent:\n- A\n- B\n") == [
        Block("paragraph", "MINUTES No. 1"),
        Block("paragraph", "Present:"),
        Block("list", items=("A", "B")),
    ]


def test_an_act_number_typed_with_its_sign_is_printed_with_one(app, session):
    sitting = _final(session)
    session.execute(  # the demo records its act: take it back to record one as typed
        CommissionSession.__table__.update()
        .where(CommissionSession.id == sitting.id)
        .values(act_number=None, act_date=None)
    )
    session.expire(sitting)
    sessions.record_act(
        session,
        session_id=sitting.id,
        number="№ № 512-қ",
        date=sitting.held_on,
        actor_id=sitting.planned_by_id,
    )
    session.commit()
    assert sitting.act_number == "512-қ"
    client = app.test_client()
    login_as(client, "finance@demo.kz")
    item = next(i for i in sitting.items if i.outcome == "approved")
    page = client.get(f"/commission/payouts/{item.id}").text
    assert "№ 512-қ" in page and "№ №" not in page and "№ № " not in page
