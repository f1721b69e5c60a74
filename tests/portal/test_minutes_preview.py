"""The draft minutes the secretary reviews before finalising: the document's own paragraphs."""

from __future__ import annotations

from tests.conftest import login_as
from tests.factories.commission import approved_item, setup


def test_draft_minutes_preview_shows_paragraphs_lists_and_the_votes_table(app, session):
    s = setup(session)
    sitting, _item = approved_item(session, s)
    client = app.test_client()
    login_as(client, "secretary@demo.kz")
    page = client.get(f"/commission/sessions/{sitting.id}").text
    for lang in ("kk", "ru"):
        start = page.index(f'id="preview-{lang}"')
        article = page[start : page.index("</article>", start)]
        assert f'lang="{lang}"' in page[start - 40 : start]
        assert article.count("<p") >= 6 and article.count("<li>") >= 4
        assert "<table" in article and "<h4" in article and "<pre" not in article
    # Russian preview: the commission's positions in full, never "Участник".
    ru = page[page.index('id="preview-ru"') :]
    assert "Член комиссии" in ru and "Участник" not in ru
