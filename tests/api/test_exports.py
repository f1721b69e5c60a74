"""Exports through the API: the page's job, rights and audit; progress and file for the starter."""

from __future__ import annotations

import csv
import io
import json

import pytest

from core import jobruns, places
from tests.api.conftest import make_token
from tests.conftest import audit_count, login_as, wait_for_jobs

pytestmark = pytest.mark.demo_data

BUKHAR = "354000000"  # the demo commission's district, with paid rewards
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _start(api, body: dict, **kw):
    response = api.post("/api/v1/exports", body, **kw)
    assert response.status_code == 202, response.text
    started = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/exports/{started['id']}")
    return started


def _params(session, run_id: int) -> dict:
    session.rollback()
    run = session.get(jobruns.JobRun, run_id)
    return {"kind": run.kind, "run_unit_id": run.unit_id, **json.loads(run.params)}


def test_an_export_runs_to_completion_for_its_starter(app, client, api, session):
    login_as(client, "deputy@demo.kz")
    started = _start(api, {"dataset": "payouts", "format": "csv", "year": 2026})
    assert started["status"] in ("queued", "running", "succeeded")
    assert started["dataset"] == "payouts" and started["format"] == "csv"
    assert (started["result_url"] is None) == (started["status"] != "succeeded")
    # The same job as the export page starts, with the same filters.
    assert _params(session, started["id"]) == {
        "kind": "oversight.export",
        "run_unit_id": None,
        "dataset": "payouts",
        "format": "csv",
        "year": 2026,
        "unit_id": None,
        "date_from": None,
        "date_to": None,
    }
    wait_for_jobs(app)
    done = api.get(f"/api/v1/exports/{started['id']}").get_json()
    assert done["status"] == "succeeded" and done["progress"] == 100 and done["done"]
    assert done["rows"] >= 1 and done["error"] is None
    # The file is served at the job page's own address, to its starter.
    assert done["result_url"] == f"/jobs/{started['id']}/result"
    download = client.get(done["result_url"])
    assert download.status_code == 200
    # The API's own address of the file serves the same file to the same person.
    assert api.get(f"/api/v1/exports/{started['id']}/file").data == download.data
    lines = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert any("KZ** **** ****" in cell for line in lines for cell in line)
    # Audited as the page's export is, once.
    session.rollback()
    assert audit_count(session, "oversight.export", "job_run", started["id"]) == 1


def test_progress_is_for_the_starter_and_the_administrators_only(app, client, api, session):
    login_as(client, "deputy@demo.kz")
    run_id = _start(api, {"dataset": "decisions", "format": "xlsx"})["id"]
    wait_for_jobs(app)
    url = f"/api/v1/exports/{run_id}"
    client.post("/logout")
    login_as(client, "finance@demo.kz")
    refused = api.get(url)
    assert refused.status_code == 404
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert api.get(url + "/file").status_code == 404
    # An administrator of its jurisdiction follows it (as on the job's page), without the file.
    client.post("/logout")
    login_as(client, "admin@demo.kz")
    seen = api.get(url)
    assert seen.status_code == 200
    assert seen.get_json()["status"] == "succeeded" and seen.get_json()["result_url"] is None
    assert api.get(url + "/file").status_code == 404
    assert client.get(f"/jobs/{run_id}/result").status_code == 404
    client.post("/logout")
    assert api.get(url).status_code == 401


def test_only_export_runs_are_exports(app, client, api):
    login_as(client, "finance@demo.kz")
    reconcile = client.post("/finance/reconcile")
    assert reconcile.status_code == 302
    run_id = int(reconcile.headers["Location"].rsplit("/", 1)[1])
    wait_for_jobs(app)
    assert client.get(f"/jobs/{run_id}").status_code == 200  # the starter's run page
    assert api.get(f"/api/v1/exports/{run_id}").status_code == 404
    assert api.get("/api/v1/exports/999999").status_code == 404


def test_who_may_export_and_what(app, client, api, session):
    body = {"dataset": "register", "format": "csv"}
    assert api.post("/api/v1/exports", body).status_code == 401
    login_as(client, "volunteer@demo.kz")
    assert api.post("/api/v1/exports", body).status_code == 403
    client.post("/logout")
    login_as(client, "finance@demo.kz")
    bad = api.post("/api/v1/exports", {"dataset": "passwords", "format": "pdf"}, lang="ru")
    assert bad.status_code == 422
    assert {e["pointer"] for e in bad.get_json()["errors"]} == {"/dataset", "/format"}
    kostanay = places.by_kato(session, "390000000")
    outside = api.post("/api/v1/exports", {**body, "unit_id": kostanay.id})
    assert outside.status_code == 422
    assert outside.get_json()["errors"][0]["pointer"] == "/unit_id"
    backwards = api.post(
        "/api/v1/exports", {**body, "date_from": "2026-05-02", "date_to": "2026-05-01"}
    )
    assert backwards.status_code == 422
    for wrong in (
        {"year": 1999},
        {"year": "soon"},
        {"date_from": "9999-99-99"},
        {"date_to": "9999-12-31"},
    ):
        assert api.post("/api/v1/exports", {**body, **wrong}).status_code == 422, wrong
    session.rollback()
    assert not session.query(jobruns.JobRun).filter_by(kind="oversight.export").count()


def test_an_empty_export_has_no_file(app, client, api):
    login_as(client, "finance@demo.kz")
    run_id = _start(api, {"dataset": "payouts", "format": "xlsx", "year": 2001})["id"]
    wait_for_jobs(app)
    done = api.get(f"/api/v1/exports/{run_id}").get_json()
    assert done["status"] == "succeeded" and done["rows"] == 0 and done["result_url"] is None


def test_a_token_exports_within_its_grants_and_downloads_by_token(app, client, api, session):
    bukhar = places.by_kato(session, BUKHAR)
    narrow = make_token(app, "deputy@demo.kz", [("deputy", bukhar.id)])
    started = _start(api, {"dataset": "payouts", "format": "csv"}, token=narrow)
    # The job exports what the account sees: the token's narrower cover is kept as the filter.
    params = _params(session, started["id"])
    assert params["unit_id"] == params["run_unit_id"] == bukhar.id
    wait_for_jobs(app)
    done = api.get(f"/api/v1/exports/{started['id']}", token=narrow).get_json()
    assert done["status"] == "succeeded"
    assert done["result_url"] == f"/api/v1/exports/{started['id']}/file"
    download = api.get(done["result_url"], token=narrow)
    assert download.status_code == 200 and download.data
    # Another person's token sees neither the run nor its file.
    other = make_token(app, "finance@demo.kz")
    assert api.get(f"/api/v1/exports/{started['id']}", token=other).status_code == 404
    assert api.get(done["result_url"], token=other).status_code == 404
    # A token with all of the holder's grants exports as the page does.
    full = make_token(app, "deputy@demo.kz")
    whole = _start(api, {"dataset": "register", "format": "csv"}, token=full)
    assert _params(session, whole["id"])["unit_id"] is None
    wait_for_jobs(app)
    # A jurisdiction the token does not cover is refused, as on the page.
    region = places.by_kato(session, "350000000")
    refused = api.post(
        "/api/v1/exports",
        {"dataset": "register", "format": "csv", "unit_id": region.id},
        token=narrow,
    )
    assert refused.status_code == 422
    # A token over two of the holder's districts names which one to export.
    abai = places.by_kato(session, "353200000")
    two = make_token(app, "deputy@demo.kz", [("deputy", bukhar.id), ("deputy", abai.id)])
    unnamed = api.post("/api/v1/exports", {"dataset": "register", "format": "csv"}, token=two)
    assert unnamed.status_code == 422
    assert unnamed.get_json()["errors"][0]["pointer"] == "/unit_id"
    named = _start(api, {"dataset": "register", "format": "csv", "unit_id": abai.id}, token=two)
    assert _params(session, named["id"])["unit_id"] == abai.id
    wait_for_jobs(app)


def test_a_repeated_request_starts_one_export(app, client, api, session):
    login_as(client, "finance@demo.kz")
    body = {"dataset": "ledger", "format": "csv"}
    first = _start(api, body, key="export-once")
    again = api.post("/api/v1/exports", body, key="export-once")
    assert again.status_code == 202 and again.get_json()["id"] == first["id"]
    wait_for_jobs(app)
    session.rollback()
    assert session.query(jobruns.JobRun).filter_by(kind="oversight.export").count() == 1


def test_a_token_reads_only_the_exports_within_its_grants(app, client, api, session):
    bukhar = places.by_kato(session, BUKHAR)
    abai = places.by_kato(session, "353200000")
    narrow = make_token(app, "deputy@demo.kz", [("deputy", bukhar.id)])
    other_district = make_token(app, "deputy@demo.kz", [("deputy", abai.id)])
    full = make_token(app, "deputy@demo.kz")
    # Started by session: the whole region the deputy oversees, no unit on the run.
    login_as(client, "deputy@demo.kz")
    by_session = _start(api, {"dataset": "payouts", "format": "csv"})["id"]
    client.post("/logout")
    # Started by the district's token: its district only.
    by_token = _start(api, {"dataset": "payouts", "format": "csv"}, token=narrow)["id"]
    wait_for_jobs(app)
    for token, run_id in ((narrow, by_session), (other_district, by_token)):
        assert api.get(f"/api/v1/exports/{run_id}", token=token).status_code == 404
        assert api.get(f"/api/v1/exports/{run_id}/file", token=token).status_code == 404
    # A token covering all of the holder's jurisdictions reads both, as the session does.
    for run_id in (by_session, by_token):
        seen = api.get(f"/api/v1/exports/{run_id}", token=full)
        assert seen.status_code == 200 and seen.get_json()["status"] == "succeeded"
        assert seen.get_json()["result_url"] == f"/api/v1/exports/{run_id}/file"
        assert api.get(f"/api/v1/exports/{run_id}/file", token=full).status_code == 200
    # The district's token still reads its own.
    assert api.get(f"/api/v1/exports/{by_token}/file", token=narrow).status_code == 200
    login_as(client, "deputy@demo.kz")
    assert api.get(f"/api/v1/exports/{by_token}").status_code == 200


def test_progress_and_file_need_an_exporters_role(app, client, api):
    login_as(client, "deputy@demo.kz")
    run_id = _start(api, {"dataset": "ledger", "format": "csv"})["id"]
    wait_for_jobs(app)
    client.post("/logout")
    volunteer = make_token(app, "volunteer@demo.kz")
    for url in (f"/api/v1/exports/{run_id}", f"/api/v1/exports/{run_id}/file"):
        assert api.get(url, token=volunteer).status_code == 403
    login_as(client, "volunteer@demo.kz")
    for url in (f"/api/v1/exports/{run_id}", f"/api/v1/exports/{run_id}/file"):
        refused = api.get(url)
        assert refused.status_code == 403
        assert refused.headers["Content-Type"].startswith("application/problem+json")


def test_a_token_over_a_unit_and_a_unit_inside_it_covers_the_outer_one(app, client, api, session):
    region = places.by_kato(session, "350000000")
    bukhar = places.by_kato(session, BUKHAR)
    okrug = places.by_kato(session, "354081000")  # a rural okrug of the Bukhar-Zhyrau district
    # The region and a district in it: all the holder oversees, exported as the page does.
    whole = make_token(app, "deputy@demo.kz", [("deputy", region.id), ("deputy", bukhar.id)])
    started = _start(api, {"dataset": "register", "format": "csv"}, token=whole)
    assert _params(session, started["id"])["unit_id"] is None
    # A district and an okrug in it: the district.
    district = make_token(app, "deputy@demo.kz", [("deputy", bukhar.id), ("deputy", okrug.id)])
    started = _start(api, {"dataset": "register", "format": "csv"}, token=district)
    params = _params(session, started["id"])
    assert params["unit_id"] == params["run_unit_id"] == bukhar.id
    wait_for_jobs(app)


def test_the_file_is_served_as_documented(app, client, api):
    spec = api.get("/api/v1/openapi.json").get_json()
    documented = spec["paths"]["/api/v1/exports/{run_id}/file"]["get"]["responses"]["200"]
    media_types = set(documented["content"])
    assert media_types == {"text/csv", XLSX, "application/zip"}
    assert all(
        body["schema"] == {"type": "string", "format": "binary"}
        for body in documented["content"].values()
    )
    token = make_token(app, "finance@demo.kz")
    runs = [
        _start(api, {"dataset": "payouts", "format": fmt}, token=token)["id"]
        for fmt in ("csv", "xlsx")
    ]
    wait_for_jobs(app)
    served = set()
    for run_id in runs:
        download = api.get(f"/api/v1/exports/{run_id}/file", token=token)
        assert download.status_code == 200 and download.data
        served.add(download.mimetype)
    assert served == {"text/csv", XLSX}


def test_ten_starts_with_one_key_at_once_start_one_export(pg_app):
    """The outbox's retry racing the first send: one job, the others replayed or 409."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from tests.conftest import engine_of, race

    secret = make_token(pg_app, "finance@demo.kz")
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "export-race"}

    def start(_i):
        return (
            pg_app.test_client()
            .post("/api/v1/exports", json={"dataset": "ledger", "format": "csv"}, headers=headers)
            .status_code
        )

    statuses = race(10, start)
    wait_for_jobs(pg_app)
    assert statuses.count(202) >= 1 and set(statuses) <= {202, 409}, statuses
    with Session(engine_of(pg_app)) as s:
        runs = s.scalar(
            select(func.count())
            .select_from(jobruns.JobRun)
            .where(jobruns.JobRun.kind == "oversight.export")
        )
        assert runs == 1
