"""gunicorn with the repository's gunicorn.conf.py stops with one line (issue 18, finding 3)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_DATA_KEYS, TEST_INDEX_KEY

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
PRODUCTION = {
    "SECRET_KEY": "g" * 64,
    "PORTAL_PUBLIC_BASE_URL": "https://portal.example.kz/",
    "PORTAL_DATA_KEYS": TEST_DATA_KEYS,
    "PORTAL_INDEX_KEY": TEST_INDEX_KEY,
}


def _start(tmp_path, **env_extra) -> tuple[subprocess.CompletedProcess, float]:
    drop = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PORTAL_ENV", *PRODUCTION)
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(PORTAL_INSTANCE_PATH=str(tmp_path), **env_extra)
    started = time.monotonic()
    # Exactly as the README says, on a free port; a master that stays up fails the timeout.
    done = subprocess.run(
        [str(GUNICORN), "-c", "gunicorn.conf.py", "-w", "2", "-b", "127.0.0.1:0", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
    )
    return done, time.monotonic() - started


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        ({"REDIS_URL": "redis://127.0.0.1:9/0"}, "portal: cannot reach Redis at 127.0.0.1:9: "),
        (
            {**PRODUCTION, "DATABASE_URL": "postgresql://portal@127.0.0.1:9/portal"},
            "portal: cannot reach the database postgresql+psycopg://portal@127.0.0.1:9/portal: ",
        ),
    ],
    ids=["redis", "database"],
)
def test_gunicorn_exits_within_seconds_with_one_line(tmp_path, settings, line):
    done, seconds = _start(tmp_path, **settings)
    assert done.returncode != 0
    assert seconds < 10
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(line), done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "Booting worker" not in done.stderr
