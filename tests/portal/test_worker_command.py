"""The README's worker command serves every queue and delivers mail (issue 18, finding 6)."""

from __future__ import annotations

import os
import re
import shlex
import socketserver
import subprocess
import sys
import threading
from email import message_from_bytes
from pathlib import Path

import pytest

from tests.conftest import TEST_DATA_KEYS, TEST_INDEX_KEY, close_app, make_app

ROOT = Path(__file__).resolve().parents[2]


def _readme_workers() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^- Workers: (.+?)(?=^- )", text, re.MULTILINE | re.DOTALL)
    assert match, "the README has no Workers item"
    return " ".join(match.group(1).split())


def _portal_queues(app) -> set[str]:
    from portal.jobs import JOBS

    # Mail has no job kind of its own: notifications are queued on `mail` after the commit.
    return {spec.queue for spec in JOBS.values()} | {"mail"}


class _SmtpSink(socketserver.ThreadingTCPServer):
    """Just enough SMTP for smtplib: every message is accepted and kept."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.messages: list[bytes] = []
        super().__init__(("127.0.0.1", 0), _SmtpSession)


class _SmtpSession(socketserver.StreamRequestHandler):
    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self._reply("220 sink")
        data: list[bytes] | None = None
        while line := self.rfile.readline():
            if data is not None:
                if line == b".\r\n":
                    self.server.messages.append(b"".join(data))
                    data = None
                    self._reply("250 kept")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                data = []
                self._reply("354 go on")
            elif verb == b"QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("250 ok")


@pytest.fixture
def smtp_sink():
    sink = _SmtpSink()
    thread = threading.Thread(target=sink.serve_forever, daemon=True)
    thread.start()
    yield sink
    sink.shutdown()
    sink.server_close()


def test_readme_rq_alternative_serves_every_queue_with_the_scheduler(app):
    rq_line = re.search(r"`(rq worker [^`]+)`", _readme_workers())
    assert rq_line, "the README's Workers item gives no `rq worker …` line"
    words = shlex.split(rq_line.group(1))
    assert "--with-scheduler" in words
    assert words[words.index("--serializer") + 1] == "rq.serializers.JSONSerializer"
    prefix = app.config["RQ_QUEUE_PREFIX"]
    assert {f"{prefix}-{q}" for q in _portal_queues(app)} <= set(words)


def test_readme_worker_command_delivers_a_notification_to_smtp(
    db_url, redis_url, rq_prefix, smtp_sink, tmp_path
):
    command = re.search(r"`(flask --app wsgi worker[^`]*)`", _readme_workers())
    assert command, "the README's Workers item names no `flask --app wsgi worker` command"
    argv = shlex.split(command.group(1))
    app = make_app(db_url, REDIS_URL=redis_url, RQ_QUEUE_PREFIX=rq_prefix, CHECK_SERVICES=False)
    from core import notifications
    from core.notifications import Notification
    from portal.extensions import db

    try:
        with app.app_context():
            note = notifications.queue_message(
                db.session,
                user_id=None,
                email="worker-test@example.kz",
                kind="signup.code",
                params={"code": "428571", "minutes": 15},
                language="en",
            )
            note_id = note.id
            db.session.commit()  # the commit queues it on Redis (`<prefix>-mail`)
    finally:
        close_app(app)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        SECRET_KEY="worker-test-" + "s" * 40,
        PORTAL_DATA_KEYS=TEST_DATA_KEYS,
        PORTAL_INDEX_KEY=TEST_INDEX_KEY,
        PORTAL_PUBLIC_BASE_URL="https://portal.test/",
        PORTAL_INSTANCE_PATH=str(tmp_path / "instance"),
        PORTAL_RQ_QUEUE_PREFIX=rq_prefix,
        PORTAL_MAIL_SERVER="127.0.0.1",
        PORTAL_MAIL_PORT=str(smtp_sink.server_address[1]),
    )
    flask = str(Path(sys.executable).parent / argv[0])
    worker = subprocess.run(
        [flask, *argv[1:], "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert len(smtp_sink.messages) == 1, worker.stderr[-3000:]
    message = message_from_bytes(smtp_sink.messages[0])
    assert message["To"] == "worker-test@example.kz"
    assert message["Subject"] == "Your sign-up code"
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    assert "428571" in text.get_payload(decode=True).decode()  # multipart: text and HTML
    app = make_app(db_url, CHECK_SERVICES=False)
    try:
        with app.app_context():
            assert db.session.get(Notification, note_id).status == "sent"
    finally:
        close_app(app)
