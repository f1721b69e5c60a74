"""Figures, durations, budget codes and dates as each language writes them (issue 19)."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from budget import appropriations
from budget import reports as budget_reports
from budget.models import BudgetProgram
from core.errors import N_, DomainError
from core.jobruns import JobRun
from core.scope import Scope
from incentives import exports
from incentives.flag_kinds import Flag
from incentives.models import Payout
from portal import formatting
from portal.i18n import hours_minutes, number, translate_error
from portal.oversight.report_book import cell_value
from tests.conftest import login_as

ISO_DAY = re.compile(r"\b20\d\d-\d\d-\d\d\b")
POINT_PERCENT = re.compile(r"\d\.\d+\s?%")


def _in(app, lang: str, function, *args):
    with app.test_request_context(), force_locale(lang):
        return function(*args)


def test_percent_and_decimals_follow_the_language(app):
    assert _in(app, "kk", formatting.percent, 0.1) == "0,1\u00a0%"
    assert _in(app, "ru", formatting.percent, 12.345) == "12,3\u00a0%"
    assert _in(app, "en", formatting.percent, 0.1) == "0.1%"
    assert _in(app, "kk", formatting.percent, 100) == "100\u00a0%"
    assert _in(app, "ru", formatting.decimal, 1234.5) == "1\u00a0234,5"
    assert _in(app, "en", formatting.decimal, 1234.5) == "1,234.5"
    assert _in(app, "kk", formatting.percent, None) == "—"


def test_hours_are_hours_and_minutes(app):
    assert _in(app, "kk", hours_minutes, 205) == "3:25"
    assert _in(app, "ru", hours_minutes, 60) == "1:00"
    assert _in(app, "en", hours_minutes, 5) == "0:05"
    assert _in(app, "kk", formatting.hours_of, 3.41667) == "3:25"  # "3.41667 h" of finding 8
    assert _in(app, "kk", formatting.hours_of, None) == ""


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_counts_are_written_as_babel_writes_them(app, lang):
    """Small counts skip Babel (portal.i18n.number); what they read must not change."""
    from babel.numbers import format_decimal

    values = [*range(-3, 2501), 9999, 10000, 123456, 1234567, 2.5, 1234.5]
    with app.test_request_context(), force_locale(lang):
        shown = {v: number(v) for v in values}
    expected = {v: format_decimal(v, locale=lang) for v in values}
    assert shown == expected
    assert shown[1234] != "1234" and shown[999] == "999"  # grouped from a thousand on


@pytest.mark.demo_data
@pytest.mark.both_databases  # the export writes the code in SQL
def test_program_code_is_written_one_way_everywhere(app, session):
    program = BudgetProgram(
        functional_group="03", sub_function="1", administrator="252", program="003", sub_program=""
    )
    assert appropriations.program_code(program) == "03-1-252-003"
    program.sub_program = "015"
    assert appropriations.program_code(program) == "03-1-252-003-015"
    row = {part: getattr(program, part) for part in appropriations.CODE_PARTS}
    assert budget_reports.program_code(row) == "03-1-252-003-015"
    # The ledger export writes it in SQL the same way (it was "252.003." with a trailing dot).
    data = exports.dataset("ledger", filters=exports.Filters(), scope=Scope.everywhere(), lang="kk")
    codes = {row[3] for row in session.execute(data.query)}
    assert "03-1-252-003" in codes  # the demo's reward program, no trailing dot
    stored = session.execute(select(BudgetProgram)).scalars().all()
    assert codes <= {appropriations.program_code(p) for p in stored}


def test_dates_in_a_translated_sentence_are_the_readers(app):
    error = DomainError(
        N_("The date is before the membership began (%(date)s)."), date="2026-03-08"
    )
    for lang in ("kk", "ru", "en"):
        text = _in(app, lang, translate_error, error)
        assert "2026-03-08" not in text and "2026" in text, text
    assert "8 мар" in _in(app, "ru", translate_error, error)
    day = DomainError(
        N_("The date is before the membership began (%(date)s)."), date=dt.date(2026, 3, 8)
    )
    assert _in(app, "kk", translate_error, day) == _in(app, "kk", translate_error, error)


def _visible_text(page: str) -> str:
    """What a reader sees: the page without its tags, scripts and attribute values."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.mark.demo_data
def test_deputy_pages_in_kazakh_and_russian_show_no_iso_dates_nor_decimal_points(app):
    client = app.test_client()
    login_as(client, "deputy@demo.kz")
    for lang in ("kk", "ru"):
        client.post("/language", data={"lang": lang})
        board = client.get("/oversight/")
        assert board.status_code == 200
        links = re.findall(r'href="(/oversight/(?:lines|payouts|sessions)/\d+)"', board.text)
        pages = ["/oversight/", "/oversight/audit", "/oversight/flags", *sorted(set(links))[:3]]
        for url in pages:
            page = client.get(url)
            assert page.status_code == 200, url
            text = _visible_text(page.text)
            assert not ISO_DAY.search(text), (lang, url, ISO_DAY.search(text).group(0))
            assert not POINT_PERCENT.search(text), (lang, url, POINT_PERCENT.search(text))
        assert "\u00a0%" in _visible_text(board.text)


@pytest.mark.demo_data
def test_a_red_flag_shows_its_dates_and_record_as_the_reader_writes_them(app, session):
    """The flags run stores ISO dates; the kk and ru pages show them in words."""
    payout = session.scalars(select(Payout).order_by(Payout.id)).first()
    flag = Flag(
        "payout_without_minutes",
        N_(
            "A reward of %(amount)s was paid although no akimat act is recorded for the"
            " session of %(date)s."
        ),
        {"amount": "5\u00a0000,00\u00a0₸", "date": "2026-10-18"},
        "payout",
        payout.id,
        None,
    )
    result = {"counts": {"payout_without_minutes": 1}, "rows": [flag.as_dict()], "total": 1}
    session.add(
        JobRun(
            kind="oversight.flags",
            status="succeeded",
            progress=100,
            result=json.dumps(result),
            finished_at=dt.datetime.now(dt.UTC),
        )
    )
    session.commit()
    client = app.test_client()
    login_as(client, "deputy@demo.kz")
    for lang, day in (("kk", "18 қаз."), ("ru", "18 окт. 2026")):
        client.post("/language", data={"lang": lang})
        page = client.get("/oversight/flags").text
        [item] = re.findall(r'<li class="list-group-item".*?</li>', page, re.S)
        text = _visible_text(item)
        assert "2026-10-18" not in text and day in text, text
        assert f'href="/oversight/payouts/{payout.item_id}"' in item


def test_report_dates_are_dates_on_paper_and_in_the_workbook():
    assert cell_value({"deadline": "2026-03-08"}, "deadline", "date", "kk") == dt.date(2026, 3, 8)
    assert cell_value({"deadline": ""}, "deadline", "date", "kk") is None
