"""The scheduler's and the worker's lines (RQ's own too) are JSON with a time, as the web's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_DATA_KEYS, TEST_INDEX_KEY

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], env: dict) -> list[dict]:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert lines, args
    entries = [json.loads(line) for line in lines]  # every line, not only the portal's
    for entry in entries:
        assert entry["time"][:2] == "20" and entry["level"] and entry["logger"], entry
    return entries


def test_worker_and_scheduler_log_json_lines_with_time(db_url, redis_url, rq_prefix):
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "PORTAL_RQ_QUEUE_PREFIX": rq_prefix,
        "SECRET_KEY": "process-logs-key" * 3,
        "PORTAL_DATA_KEYS": TEST_DATA_KEYS,
        "PORTAL_INDEX_KEY": TEST_INDEX_KEY,
    }
    scheduled = _run(["scheduler", "--once"], env)
    # The hourly shift closing is always due: the scheduler submitted it.
    assert any(e["message"].startswith("submitted shifts.close@") for e in scheduled)
    worked = _run(["worker", "--burst", "--name", f"{rq_prefix}-worker"], env)
    assert any(e["logger"].startswith("rq.") for e in worked)
    # Lines written while a job runs carry its id and kind.
    done = [e for e in worked if e["logger"] == "portal.jobs"]
    assert done and all(e["job_id"] > 0 and e["job_kind"] for e in done)
