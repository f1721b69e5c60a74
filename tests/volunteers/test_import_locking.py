"""A large import never keeps other people from signing in (issue 17: "database is locked")."""

from __future__ import annotations

import datetime as dt

from core.iin import make_iin
from core.jobruns import JobRun
from tests.conftest import DEMO_PASSWORD, login, login_as, wait_for_jobs

ROWS = 10_000
HEADER = "iin,full_name,kind,kato,phone,email,address,issued_on\n"


def register_csv(rows: int) -> bytes:
    """``rows`` people of Botakara, each with an IIN of their own."""
    lines, seen, serial = [], set(), 0
    while len(lines) < rows:
        serial += 1
        born = dt.date(1960 + serial % 40, 1 + serial // 40 % 12, 1 + serial // 480 % 28)
        iin = make_iin(born, "male" if serial % 2 else "female", serial % 9000)
        if iin not in seen:
            seen.add(iin)
            lines.append(f"{iin},Адам {serial},public_assistant,354030100,,,Ботақара {serial},")
    return (HEADER + "\n".join(lines) + "\n").encode()


def test_sign_ins_keep_working_while_a_10000_row_import_runs(app, session):
    registrar = app.test_client()
    login_as(registrar, "registrar@demo.kz")
    # The body encoded here: the test client would spool one over 500 KB to a file it leaks.
    body = (
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="register.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n" + register_csv(ROWS) + b"\r\n--x--\r\n"
    )
    response = registrar.post(
        "/volunteers/import", data=body, content_type="multipart/form-data; boundary=x"
    )
    assert response.status_code == 302
    page = response.headers["Location"]
    # The job runs on the in-process runner's thread; people sign in meanwhile.
    sign_ins = []
    while not registrar.get(page + "/status.json").get_json()["done"]:
        started = dt.datetime.now(dt.UTC)
        signed_in = login(app.test_client(), "coordinator@demo.kz", DEMO_PASSWORD)
        sign_ins.append((started, dt.datetime.now(dt.UTC)))
        assert signed_in.status_code == 302, signed_in.status_code  # never a 500
    wait_for_jobs(app)
    status = registrar.get(page + "/status.json").get_json()
    assert status["status"] == "succeeded", status
    counts = {k: status["result"][k] for k in ("read", "imported", "duplicates", "rejected")}
    assert counts == {"read": ROWS, "imported": ROWS, "duplicates": 0, "rejected": 0}
    run = session.get(JobRun, int(page.rsplit("/", 1)[1]))
    # Holding the write lock for the whole file, the job made a sign-in wait until it ended
    # (past 15 s: "database is locked"); now a sign-in waits for one chunk at most.
    during = [
        end - start for start, end in sign_ins if run.started_at <= start and end <= run.finished_at
    ]
    assert len(during) >= 5, (len(sign_ins), run.started_at, run.finished_at)
    assert max(during) < (run.finished_at - run.started_at) / 3, during
