"""Deputies' inquiries: ask, refuse empty text, answer (not by a deputy), notify, close, reopen."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core import accounts, audit, calendar, clock
from core.db import utcnow
from core.notifications import Notification
from core.scope import Scope
from incentives import inquiries
from incentives.inquiry_models import Inquiry
from tests.conftest import login_as, translated, wait_for_jobs
from tests.factories import commission as ch


def _client(app, email):
    client = app.test_client()
    login_as(client, email)
    return client


def test_inquiry_asked_answered_closed_and_reopened(app, session):
    s = ch.setup(session)
    deputy = _client(app, "deputy@demo.kz")
    line_page = deputy.get(f"/finance/lines/{s.line_id}")
    assert f"object_type=budget_line&amp;object_id={s.line_id}" in line_page.text
    form = deputy.get(f"/oversight/inquiries/new?object_type=budget_line&object_id={s.line_id}")
    assert form.status_code == 200

    empty = deputy.post(
        "/oversight/inquiries",
        data={"object_type": "budget_line", "object_id": s.line_id, "text": "  "},
    )
    assert empty.status_code == 422
    assert translated(app, "Write the question.", "kk") in empty.text
    unknown = deputy.post(
        "/oversight/inquiries",
        data={"object_type": "budget_line", "object_id": 999999, "text": "?"},
    )
    assert unknown.status_code == 404

    asked = deputy.post(
        "/oversight/inquiries",
        data={"object_type": "budget_line", "object_id": s.line_id, "text": "Неге 0%?"},
    )
    assert asked.status_code == 302
    session.rollback()
    inquiry = session.scalar(select(Inquiry).order_by(Inquiry.id.desc()))
    assert (inquiry.status, inquiry.object_type, inquiry.object_id) == (
        "open",
        "budget_line",
        s.line_id,
    )
    today = clock.local_date(utcnow())
    assert inquiry.deadline == calendar.add_working_days(
        session, today, inquiries.ANSWER_WORKING_DAYS
    )
    url = f"/oversight/inquiries/{inquiry.id}"

    by_deputy = deputy.post(f"{url}/answer", data={"answer-text": "Өзім жауап берем"})
    assert by_deputy.status_code == 403
    assert (
        translated(
            app, "Only the commission's secretary or a finance officer of the akimat answers.", "kk"
        )
        in by_deputy.text
    )

    finance = _client(app, "finance@demo.kz")
    queue = finance.get("/oversight/inquiries")
    assert url in queue.text
    blank = finance.post(f"{url}/answer", data={"answer-text": ""})
    assert blank.status_code == 422
    assert (
        finance.post(f"{url}/answer", data={"answer-text": "Төлем IV тоқсанда"}).status_code == 302
    )
    wait_for_jobs(app)
    session.rollback()
    inquiry = session.get(Inquiry, inquiry.id)
    assert inquiry.status == "answered" and inquiry.answered_at is not None
    note = session.scalar(
        select(Notification)
        .where(Notification.kind == "inquiry.answered")
        .order_by(Notification.id.desc())
    )
    assert note.user_id == inquiry.deputy_id and note.status == "kept"
    assert f"/oversight/inquiries/{inquiry.id}" in note.body

    page = deputy.get(url)
    assert "Неге 0%?" in page.text and "Төлем IV тоқсанда" in page.text
    assert finance.post(f"{url}/close").status_code == 403  # only the deputy closes
    assert deputy.post(f"{url}/close").status_code == 302
    closed = finance.post(f"{url}/answer", data={"answer-text": "Тағы"})
    assert closed.status_code == 409
    assert (
        deputy.post(f"{url}/follow-up", data={"follow-text": "Актіні көрсетіңіз"}).status_code
        == 302
    )
    session.rollback()
    inquiry = session.get(Inquiry, inquiry.id)
    assert inquiry.status == "open" and inquiry.closed_at is None
    assert [m.kind for m in inquiry.messages] == ["question", "answer", "follow_up"]
    actions = [e.action for e in audit.events_for(session, "inquiry", inquiry.id)]
    assert actions == ["inquiry.follow_up", "inquiry.close", "inquiry.answer", "inquiry.ask"]
    assert deputy.get("/oversight/inquiries").status_code == 200


def test_inquiry_queue_flags_overdue_and_other_records(app, session):
    s = ch.setup(session)
    deputy = accounts.find_by_login(session, "deputy@demo.kz")
    region = deputy.scope("deputy")
    decision_id = session.scalar(
        select(audit.AuditEvent.object_id)
        .where(audit.AuditEvent.object_type == "maslikhat_decision")
        .order_by(audit.AuditEvent.seq.desc())
        .limit(1)
    )
    asked = [
        inquiries.ask(
            session,
            object_type=kind,
            object_id=int(oid),
            text="Сұрақ",
            deputy_id=deputy.id,
            scope=Scope.within(region),
            today=dt.date(2026, 1, 5),
        )
        for kind, oid in (("budget_line", s.line_id), ("maslikhat_decision", decision_id))
    ]
    session.commit()
    assert all(i.overdue(dt.date(2026, 3, 1)) for i in asked)
    finance = _client(app, "finance@demo.kz")
    queue = finance.get("/oversight/inquiries")
    assert translated(app, "Overdue", "kk") in queue.text
    decision_page = _client(app, "deputy@demo.kz").get(f"/finance/decisions/{decision_id}")
    assert f"object_type=maslikhat_decision&amp;object_id={decision_id}" in decision_page.text
    # A volunteer may not ask; an unknown kind of record is not found.
    volunteer = _client(app, "volunteer@demo.kz")
    assert volunteer.get("/oversight/inquiries").status_code == 403
    dep = _client(app, "deputy@demo.kz")
    assert dep.get("/oversight/inquiries/new?object_type=member&object_id=1").status_code == 404


def test_only_those_who_answer_see_the_queue_to_answer(app, client):
    from tests.conftest import login_as, translated

    heading = translated(app, "Inquiries to answer", "kk")
    login_as(client, "deputy@demo.kz")  # asks, never answers
    assert heading not in client.get("/oversight/inquiries").text
    login_as(client, "finance@demo.kz")
    assert heading in client.get("/oversight/inquiries").text
