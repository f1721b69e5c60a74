"""The demo's hearings and complaints: every state and stage, something overdue, all audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from appeals import flags
from appeals.models import Complaint, Hearing
from core import audit, clock, places
from core.scope import Scope
from demo import appeals as demo_appeals
from tests.conftest import DEMO_PASSWORD, login_as

pytestmark = [pytest.mark.demo_data, pytest.mark.both_databases]


def test_the_demo_has_a_complaint_in_each_stage_and_a_hearing_in_each_state(app, client, session):
    assert demo_appeals.load_appeals(session, DEMO_PASSWORD) == [demo_appeals.APPLICANT]
    session.commit()
    hearings = dict(
        session.execute(select(Hearing.status, func.count()).group_by(Hearing.status)).all()
    )
    assert set(hearings) == {"drafted", "notified", "heard", "adopted", "withdrawn"}
    stages = dict(
        session.execute(select(Complaint.status, func.count()).group_by(Complaint.status)).all()
    )
    assert set(stages) == {"registered", "granted", "forwarded", "decided"}
    outcomes = set(session.scalars(select(Complaint.outcome).where(Complaint.status == "decided")))
    assert {"cancel", "unsatisfied", "returned"} <= outcomes
    kinds = set(session.scalars(select(Complaint.kind)))
    assert kinds == {"act", "inaction", "police"}
    assert session.scalar(
        select(func.count()).where(Complaint.kind == "police", Complaint.status == "decided")
    )
    assert session.scalar(select(func.count()).where(Hearing.exception_kind.is_not(None)))
    # Deadlines look real: something of each sort is overdue today, in the demo district.
    district = Scope.within([places.by_kato(session, "354000000").id])
    for check in (flags.overdue_hearings, flags.overdue_forwardings, flags.overdue_reviews):
        assert check(session, district), check.__name__
    # The review in time is not overdue; its due date lies ahead.
    ahead = session.scalar(
        select(func.count()).where(
            Complaint.status == "forwarded", Complaint.review_due_on >= clock.today()
        )
    )
    assert ahead >= 1
    assert audit.verify_chain(session).ok
    # Loading again adds nothing.
    assert demo_appeals.load_appeals(session, DEMO_PASSWORD) == []
    assert session.scalar(select(func.count()).select_from(Hearing)) == sum(hearings.values())
    # The deputy's statistics show them; the person sees their own cases.
    login_as(client, "deputy@demo.kz")
    year = clock.today().year
    page = client.get(f"/oversight/appeals?year={year}")
    assert page.status_code == 200
    stage_row = page.text.split('id="complaint-stages"', 1)[1].split("</table>", 1)[0]
    assert 'data-figure="filed">0<' not in stage_row
