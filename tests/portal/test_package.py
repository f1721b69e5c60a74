"""The wheel is the whole portal: installed elsewhere, it migrates a database and serves pages."""

from __future__ import annotations

import gettext
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import uuid
from pathlib import Path

from tests.conftest import (
    TEST_DATA_KEYS,
    TEST_INDEX_KEY,
    create_database,
    drop_database,
    pg_url,
)

ROOT = Path(__file__).resolve().parents[2]
# Only what a build reads is copied: the build writes build/ and *.egg-info next to its sources.
_NOT_SOURCES = shutil.ignore_patterns(
    ".venv", ".git", "tests", "bench", "instance", "build", "*.egg-info", "__pycache__", ".*cache*"
)

# Run by the installed interpreter from a directory outside the checkout.
_SERVE = """
import json, sys
import portal, wsgi
app = wsgi.app
client = app.test_client()
home = client.get("/", base_url="https://portal.test/")
login = client.get("/login", base_url="https://portal.test/", headers={"Accept-Language": "kk"})
css = client.get("/static/css/portal.css", base_url="https://portal.test/")
print(json.dumps({
    "portal": portal.__file__,
    "wsgi": wsgi.__file__,
    "templates": app.jinja_loader.searchpath[0],
    "static": app.static_folder,
    "migrations": app.extensions["migrate"].directory,
    "translations": app.config["BABEL_TRANSLATION_DIRECTORIES"],
    "instance": app.instance_path,
    "home": home.status_code,
    "home_html": home.get_data(as_text=True),
    "login": login.status_code,
    "login_html": login.get_data(as_text=True),
    "css": css.status_code,
    "css_body": css.get_data(as_text=True),
    "loaded": sorted(m for m in ("fpdf", "openpyxl", "numpy", "pandas") if m in sys.modules),
}))
"""


def _build_wheel(tmp: Path) -> Path:
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCES)
    # Offline: the build uses the setuptools of the test environment (`.[test]` pins it).
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip_wheel, "-q", "-w", str(tmp / "dist"), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp / "dist").glob("citizen_incentive_portal-*.whl")
    return wheel


def _install(wheel: Path, venv: Path) -> Path:
    """Install ``wheel`` alone into a new venv that borrows the test environment's dependencies."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    pip_install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
    subprocess.run(
        [*pip_install, "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # Installed first, borrowed after: a plain path line appends the test environment's
    # site-packages (dependencies) without running its .pth files, so the checkout's editable
    # install stays out and `portal` can only come from the wheel.
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_test_dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    return python


def test_the_wheel_migrates_an_empty_database_and_serves_pages_from_its_own_files(
    tmp_path, pg_admin
):
    wheel = _build_wheel(tmp_path)
    venv = tmp_path / "venv"
    python = _install(wheel, venv)
    name = f"portal_package_{uuid.uuid4().hex[:8]}"
    create_database(pg_admin, name)
    try:
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PORTAL_", "PYTHON")) and k not in ("REDIS_URL", "FLASK_APP")
        }
        env.update(
            DATABASE_URL=pg_url(name),
            SECRET_KEY="package-test-" + "s" * 40,
            PORTAL_DATA_KEYS=TEST_DATA_KEYS,
            PORTAL_INDEX_KEY=TEST_INDEX_KEY,
            PORTAL_PUBLIC_BASE_URL="https://portal.test/",
        )
        upgrade = subprocess.run(
            [str(python), "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert upgrade.returncode == 0, upgrade.stderr[-3000:]
        served = subprocess.run(
            [str(python), "-c", _SERVE],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert served.returncode == 0, served.stderr[-3000:]
        result = json.loads(served.stdout.strip().splitlines()[-1])
    finally:
        drop_database(pg_admin, name)

    installed = str(venv.resolve())
    for key in ("portal", "wsgi", "templates", "static", "migrations", "translations"):
        where = Path(result[key]).resolve()
        assert where.exists() and str(where).startswith(installed), (key, result[key])
    # Never inside site-packages: under the environment's prefix, as Flask does.
    assert Path(result["instance"]).resolve() == venv.resolve() / "var" / "portal-instance"
    assert result["home"] == 200 and result["login"] == 200
    assert "<html" in result["home_html"].lower()
    kazakh = gettext.translation(
        "messages", localedir=ROOT / "portal" / "translations", languages=["kk"]
    )
    sign_in = kazakh.gettext("Sign in")
    assert sign_in != "Sign in" and sign_in in result["login_html"]
    assert result["css"] == 200
    assert result["css_body"] == (ROOT / "static" / "css" / "portal.css").read_text()
    # The PDF, spreadsheet and report libraries wait for the first file that needs them: a
    # process that serves pages does not pay their 0.3-0.5 s of start-up (issue 16).
    assert result["loaded"] == []
