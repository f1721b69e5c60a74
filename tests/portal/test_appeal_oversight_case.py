"""Deputies' read-only pages of a hearing and a complaint, and the links to them."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from appeals import flags, hearings
from core import clock, jobruns, places
from core.db import utcnow
from core.scope import Scope
from tests.appeals import complaint_factory as cf
from tests.conftest import login_as, translated
from tests.factories.oversight import other_deputy

# Overdue is compared in SQL with the frozen day: both databases.
pytestmark = pytest.mark.both_databases

LATER = dt.date(2027, 1, 20)  # long after the 20 working days of the review
OBJECTION = "Секретная возражение: болел, справка № 77"


def _client(app, email):
    client = app.test_client()
    login_as(client, email)
    return client


@pytest.fixture
def case(session):
    """A suspension heard with an objection, adopted, complained of and forwarded."""
    complaint, hearing, member = cf.forwarded(session)
    registrar = cf.user(session, "registrar@demo.kz")
    # A second hearing of the same member, with an objection the deputy must not read.
    draft = hearings.draft(
        session,
        act_kind="expel",
        subject_id=member.id,
        grounds=[cf.ground(session, "expel")],
        grounds_text="Скрытые факты дела",
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
        now=cf.at(cf.FILE_DAY),
    )
    hearings.notify(
        session,
        hearing_id=draft.id,
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
        now=cf.at(cf.FILE_DAY),
    )
    hearings.object(
        session,
        hearing_id=draft.id,
        body=OBJECTION,
        channel="paper",
        actor_id=registrar.id,
        now=cf.at(cf.FILE_DAY),
    )
    session.commit()
    return complaint, hearing, member, draft


@pytest.fixture
def later(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: cf.at(LATER, 12))
    return LATER


def test_deputy_reads_a_complaint_masked_with_its_overdue_review(app, session, case, later):
    complaint, hearing, _member, _draft = case
    page = _client(app, "deputy@demo.kz").get(f"/oversight/complaints/{complaint.id}")
    assert page.status_code == 200, page.text
    html = page.text
    assert complaint.number in html
    # The IIN masked, never whole; no address, contact, grounds, request nor reasons.
    iin = complaint.complainant_iin
    assert iin not in html and iin[-4:] in re.search(r'id="case-iin">([^<]*)<', html).group(1)
    for private in ("Абай к-сі", "+7 701", "ауруыма", "Актіні жоюды", "Кезекшілікке"):
        assert private not in html, private
    # The review's term ran out: marked late by appeals.waiting's definition.
    review_row = re.search(r'<tr data-term="review_due">.*?</tr>', html, re.S).group(0)
    assert "case-late" in review_row
    forward_row = re.search(r'<tr data-term="forward_due">.*?</tr>', html, re.S).group(0)
    assert "case-late" not in forward_row  # forwarded: no longer waiting
    # The stage history from the audit trail, and the hearing's oversight page.
    assert translated(app, "Complaint forwarded to the reviewing body", "kk") in html
    assert f"/oversight/hearings/{hearing.id}" in html
    # No document link: the document views do not let a deputy read them.
    assert "/appeals/complaints/" not in html and 'id="case-documents"' not in html


def test_deputy_reads_a_hearing_without_its_private_text(app, session, case, later):
    complaint, hearing, member, draft = case
    deputy = _client(app, "deputy@demo.kz")
    page = deputy.get(f"/oversight/hearings/{draft.id}")
    assert page.status_code == 200, page.text
    html = page.text
    assert OBJECTION not in html and "Скрытые факты" not in html
    assert re.search(r'id="case-objections">1\b', html)
    assert member.iin not in html and member.iin[-4:] in html
    # Notified, never adopted: the act is overdue (ACT_WITHIN working days after its day).
    act_row = re.search(r'<tr data-term="earliest_act">.*?</tr>', html, re.S).group(0)
    assert "case-late" in act_row
    assert translated(app, "Objection to a preliminary decision", "kk") in html  # the stages
    adopted = deputy.get(f"/oversight/hearings/{hearing.id}")
    assert adopted.status_code == 200
    assert hearing.act_number in adopted.text
    # No objection came to this one: none counted, none in its stages.
    assert re.search(r'id="case-objections">0\b', adopted.text)
    assert translated(app, "Objection to a preliminary decision", "kk") not in adopted.text
    assert f"/oversight/complaints/{complaint.id}" in adopted.text
    assert "/appeals/hearings/" not in adopted.text  # no document the deputy may not open


def test_outsiders_are_refused(app, session, case):
    complaint, hearing, _member, _draft = case
    other_deputy(session)
    other = _client(app, "deputy.abai@demo.kz")
    assert other.get(f"/oversight/complaints/{complaint.id}").status_code == 404
    assert other.get(f"/oversight/hearings/{hearing.id}").status_code == 404
    assert other.get("/oversight/hearings/999999").status_code == 404
    volunteer = _client(app, "volunteer@demo.kz")
    assert volunteer.get(f"/oversight/hearings/{hearing.id}").status_code == 403
    assert volunteer.get(f"/oversight/complaints/{complaint.id}").status_code == 403
    admin = _client(app, "admin@demo.kz")
    assert admin.get(f"/oversight/complaints/{complaint.id}").status_code == 200


def test_flags_page_links_an_overdue_review(app, session, case, later):
    complaint, _hearing, _member, draft = case
    district = places.by_kato(session, cf.DISTRICT).id
    found = [
        *flags.overdue_reviews(session, Scope.within([district])),
        *flags.overdue_hearings(session, Scope.within([district])),
    ]
    assert {(f.kind, f.target_id) for f in found} >= {
        ("overdue_review", complaint.id),
        ("overdue_hearing", draft.id),
    }
    run = jobruns.JobRun(kind="oversight.flags", status="succeeded", progress=100)
    counts = {kind: sum(f.kind == kind for f in found) for kind in flags.APPEAL_KINDS}
    rows = [f.as_dict() for f in found]
    run.result = json.dumps({"counts": counts, "rows": rows, "total": len(rows)})
    run.finished_at = utcnow()
    session.add(run)
    session.commit()
    page = _client(app, "deputy@demo.kz").get("/oversight/flags")
    assert page.status_code == 200
    review = re.search(
        r'<li class="list-group-item" data-kind="overdue_review">.*?</li>', page.text, re.S
    )
    assert f'href="/oversight/complaints/{complaint.id}"' in review.group(0)
    assert f'href="/oversight/hearings/{draft.id}"' in page.text


def test_audit_browser_links_a_hearing_event(app, session, case):
    _complaint, hearing, _member, _draft = case
    deputy = _client(app, "deputy@demo.kz")
    log = deputy.get(f"/oversight/audit?object_type=hearing&object_id={hearing.id}")
    assert log.status_code == 200
    assert f'href="/oversight/hearings/{hearing.id}"' in log.text
    # Another district's deputy sees neither the event nor a link to the page.
    other_deputy(session)
    other = _client(app, "deputy.abai@demo.kz")
    assert (
        f"/oversight/hearings/{hearing.id}"
        not in other.get(f"/oversight/audit?object_type=hearing&object_id={hearing.id}").text
    )
