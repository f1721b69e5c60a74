"""The home page as a to-do list: each role sees what waits on it, counted within its territory."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, or_, select

from core import accounts, clock, places
from core.scope import Scope
from tests.conftest import login_as, translated
from volunteers import contributions
from volunteers.activity_models import Contribution
from volunteers.models import Application, Member

pytestmark = pytest.mark.demo_data

# The hearing and complaint lines of whoever drafts and adopts acts (appeals.waiting).
HEARING_LINES = [
    "Preliminary decisions to send to the person or whose receipt to record",
    "Oral hearings to hold",
    "Hearings whose act may be adopted: adopt or withdraw",
    "Complaints to grant in full or forward (3 working days)",
]
# Role -> the lines its home page must show (msgids), in the demo.
EXPECTED = {
    "coordinator": [
        "Applications waiting for the police check",
        "Vetted applicants to enter in the register",
        "Contributions to confirm",
        *HEARING_LINES,
        "Complaints about the police awaiting the police's outcome",
    ],
    "registrar": [
        "Applications waiting for the police check",
        "Vetted applicants to enter in the register",
        *HEARING_LINES,
    ],
    "member": ["Nominations waiting for your vote"],
    "chair": ["Nominations waiting for your vote"],
    "secretary": [
        "Open sittings to close",
        "Minutes to approve",
        *HEARING_LINES,
        "Deputies' inquiries to answer",
    ],
    "finance": [
        "Maslikhat decisions to verify",
        "Approved rewards to pay",
        "Deputies' inquiries to answer",
    ],
    "deputy": ["Answers to your inquiries to read", "Red flags in your territory"],
    "reviewer": ["Complaints to review (20 working days)"],
    "admin": ["Red flags in your territory"],
}
ALL_LINES = {line for lines in EXPECTED.values() for line in lines}
LINE = re.compile(
    r'<a class="stretched-link[^"]*" href="([^"]+)">([^<]+)</a>.*?data-count="(\d+)"', re.S
)


def _todo(client) -> dict[str, tuple[str, int]]:
    page = client.get("/")
    assert page.status_code == 200
    block = page.text.split('data-testid="todo"', 1)
    if len(block) == 1:
        return {}
    body = block[1].split("</ul>", 1)[0]
    return {label.strip(): (url, int(count)) for url, label, count in LINE.findall(body)}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_sees_its_own_lines_and_each_link_opens(app, client, role):
    login_as(client, f"{role}@demo.kz")
    lines = _todo(client)
    lang = "en" if role == "admin" else "kk"  # the demo administrator reads English
    wanted = {translated(app, msgid, lang) for msgid in EXPECTED[role]}
    others = {translated(app, msgid, lang) for msgid in ALL_LINES - set(EXPECTED[role])}
    assert wanted <= set(lines), (role, sorted(lines))
    assert not (others & set(lines)), (role, sorted(others & set(lines)))
    for url, _count in lines.values():
        assert client.get(url).status_code == 200, url


def _district_count(session, model, *conditions) -> int:
    district = places.by_kato(session, "354000000")
    return session.scalar(
        select(func.count())
        .select_from(model)
        .join(places.AdminUnit, places.AdminUnit.id == model.unit_id)
        .where(places.AdminUnit.path.startswith(district.path), *conditions)
    )


@pytest.mark.both_databases
@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_every_role_home_counts_on_both_databases(app, client, role):
    """The to-do counts are SQL of their own (FILTER, EXISTS): each role's runs on both."""
    login_as(client, f"{role}@demo.kz")
    lines = _todo(client)
    assert len(lines) == len(EXPECTED[role]), (role, sorted(lines))
    assert all(count >= 0 for _url, count in lines.values())


@pytest.mark.both_databases
def test_the_coordinator_counts_follow_the_work(app, client, session):
    login_as(client, "coordinator@demo.kz")
    label = translated(app, "Contributions to confirm", "kk")
    coordinator = accounts.find_by_login(session, "coordinator@demo.kz")
    before = _todo(client)[label][1]
    assert before == _district_count(
        session,
        Contribution,
        Contribution.status == "logged",
        or_(Contribution.logged_by_id.is_(None), Contribution.logged_by_id != coordinator.id),
    )
    checks = translated(app, "Applications waiting for the police check", "kk")
    assert _todo(client)[checks][1] == _district_count(
        session, Application, Application.status.in_(("submitted", "police_check"))
    )
    volunteer = accounts.find_by_login(session, "volunteer@demo.kz")
    member = session.scalars(
        select(Member).where(Member.user_id == volunteer.id, Member.status == "active")
    ).first()
    today = clock.today()
    logged = contributions.log_contribution(
        session,
        member_id=member.id,
        kind="preventive_event",
        occurred_on=today,
        minutes=90,
        description="Evening patrol near the school",
        reference=None,
        actor_id=volunteer.id,
        today=today,
    )
    session.commit()
    assert _todo(client)[label][1] == before + 1
    contributions.confirm(
        session,
        contribution_id=logged.id,
        actor_id=coordinator.id,
        now=clock.now(),
        scope=Scope.of(coordinator, "coordinator"),
    )
    session.commit()
    assert _todo(client)[label][1] == before


def test_a_volunteer_sees_the_next_shift_hours_and_rewards(app, client):
    login_as(client, "volunteer@demo.kz")
    page = client.get("/").text
    assert 'data-testid="quarter-hours"' in page
    hours = re.search(r'data-testid="quarter-hours">([^<]+)<', page).group(1)
    assert re.fullmatch(r"\d[\d\s\u00a0]*:\d\d", hours), hours  # h:mm, never "3.41667 h"
    assert 'data-testid="rewards"' in page
    assert translated(app, "Next shift", "kk") in page
    # No to-do lines of officials for a citizen.
    assert _todo(client) == {}


@pytest.mark.both_databases
def test_a_late_application_shows_as_overdue(app, client, session):
    """An application past its police-check term is counted late, in red, on the home page."""
    application = session.scalars(
        select(Application).where(Application.status.in_(("submitted", "police_check")))
    ).first()
    application.police_due_on = clock.today().replace(year=clock.today().year - 1)
    session.commit()
    login_as(client, "registrar@demo.kz")
    page = client.get("/").text
    line = page.split(translated(app, "Applications waiting for the police check", "kk"))[1]
    line = line.split("</li>", 1)[0]
    assert "text-bg-danger" in line
    assert int(re.search(r"(\d+)\D*</span>", line).group(1)) >= 1
