"""Charts have axes with ticks, units and the year before beside this one (issue 19, finding 8)."""

from __future__ import annotations

import lxml.html
import pytest

from portal import charts
from tests.conftest import login_as, translated


def test_ticks_are_round_steps_reaching_the_peak():
    assert charts.ticks(0) == [0, 1]
    assert charts.ticks(7) == [0, 2, 4, 6, 8]
    assert charts.ticks(86_500) == [0, 25_000, 50_000, 75_000, 100_000]
    assert charts.ticks(3) == [0, 1, 2, 3]


def test_quarterly_chart_puts_the_same_quarter_a_year_before_beside_each(app):
    bars = [((2025, q), 10 * q, False) for q in range(1, 5)] + [((2026, 1), 8, True)]
    with app.test_request_context():
        chart = charts.quarters("c", "Offences", bars)
    last = [b for b in chart.bars if b.x > max(x.x for x in chart.bars) - 20]
    previous, current = sorted(last, key=lambda b: b.x)
    assert previous.css == charts.PREVIOUS and current.css == "bar"
    assert previous.height > current.height  # 10 in 2025 Q1 against 8 in 2026 Q1
    assert [s.css for s in chart.legend] == [charts.PREVIOUS, "bar-before", "bar"]
    assert chart.table.rows[-1][1:] == ["8", "10"]
    assert [t.text for t in chart.labels if t.css == "chart-tick"] == ["0", "10", "20", "30", "40"]


@pytest.mark.demo_data
def test_dashboard_pays_by_month_against_the_year_before_with_a_money_axis(app):
    deputy = app.test_client()
    login_as(deputy, "deputy@demo.kz")
    page = lxml.html.fromstring(deputy.get("/oversight/?year=2026").get_data(as_text=True))
    (svg,) = page.xpath('//svg[@aria-labelledby="months-title"]')
    assert len(svg.xpath('.//rect[@class="bar-previous"]')) == 12
    assert len(svg.xpath('.//rect[@class="bar"]')) == 12
    assert [t.text for t in svg.xpath('.//text[@class="chart-axis-title"]')] == ["₸"]
    assert len(svg.xpath('.//text[@class="chart-tick"]')) >= 3
    assert svg.xpath('.//line[@class="chart-axis"]')
    legend = svg.getnext()
    assert "2025" in legend.text_content() and "2026" in legend.text_content()
    headers = [th.text_content() for th in legend.getnext().xpath(".//thead//th")]
    assert headers[1:] == ["2026", "2025"]


def test_weekly_hours_have_an_hours_axis_and_the_weeks_a_year_before(app):
    police = app.test_client()
    login_as(police, "coordinator@demo.kz")
    page = lxml.html.fromstring(police.get("/shifts/summary").get_data(as_text=True))
    (svg,) = page.xpath('//svg[@aria-labelledby="hours-title"]')
    lang = page.get("lang")
    assert [t.text for t in svg.xpath('.//text[@class="chart-axis-title"]')] == [
        translated(app, "hours", lang)
    ]
    assert len(svg.xpath('.//rect[@class="bar-previous"]')) == 12
    legend = svg.getnext().text_content()
    assert translated(app, "A year earlier", lang) in legend
