#!/usr/bin/env python3
"""Set up and run the portal on a fresh machine with only Python 3.11+.

python3 dev.py run     install, migrate, load demo data, serve on http://127.0.0.1:5000
python3 dev.py test    install with test tools, lint, run the whole test suite
                       (extra arguments go to pytest; --full runs every database test on
                       PostgreSQL too, not only those marked both_databases)
python3 dev.py i18n    extract messages and update the kk/ru/en catalogs, then compile
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def sh(*args: str, env: dict | None = None) -> None:
    """Run a command from the repository root; stop with its exit code if it fails."""
    print("+", " ".join(args), flush=True)
    code = subprocess.call(list(args), cwd=ROOT, env={**os.environ, **(env or {})})
    if code:
        sys.exit(code)


def install(extra: str = "") -> None:
    """Create .venv and install the portal into it (editable), with ``extra`` dependencies."""
    if sys.version_info < (3, 11):  # noqa: UP036  (this script may be run by an older python3)
        sys.exit("Python 3.11 or newer is needed.")
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    sh(str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    # constraints.txt pins every dependency to the versions the suite last passed with.
    sh(str(PY), "-m", "pip", "install", "--quiet", "-c", "constraints.txt", "-e", f".{extra}")


def flask(*args: str) -> None:
    sh(str(BIN / "flask"), "--app", "wsgi", *args)


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` is this machine only (browsers keep Secure cookies over its http)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def cookie_setting(host: str, environ: dict) -> tuple[dict, str | None]:
    """Return the environment to add for serving the demo on ``host``, and a line to print.

    A browser drops the ``__Host-`` Secure session cookie over plain http to another machine,
    and sign-in silently fails; so the demo served there uses cookies that are not Secure (every
    page then says the connection is not secure). An explicit PORTAL_SECURE_COOKIES is kept.
    """
    if is_loopback(host):
        return {}, None
    explicit = environ.get("PORTAL_SECURE_COOKIES")
    if explicit is None:
        return {"PORTAL_SECURE_COOKIES": "0"}, (
            f"HOST={host} serves other machines over plain HTTP: the demo uses cookies that are "
            "not Secure and every page says so; for real use put HTTPS in front and set "
            "PORTAL_SECURE_COOKIES=1."
        )
    if explicit.strip().lower() in ("1", "true", "yes", "on"):
        return {}, (
            f"PORTAL_SECURE_COOKIES is on: browsers sign in to http://{host} only through "
            "HTTPS in front of it; for a demo over plain HTTP set PORTAL_SECURE_COOKIES=0."
        )
    return {}, None


def run() -> None:
    install()
    # The demo only: its accounts sign in without a second factor; every page says so.
    os.environ["PORTAL_DEMO_MFA_WAIVER"] = "1"
    host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "5000")
    extra, line = cookie_setting(host, dict(os.environ))
    os.environ.update(extra)
    flask("demo")
    if line:
        print(f"\n{line}", flush=True)
    print(f"\nThe portal is at http://{host}:{port}/  (stop it with Ctrl+C)\n", flush=True)
    flask("serve", "--host", host, "--port", port)


def test(pytest_args: list[str]) -> None:
    install("[test]")
    sh(str(BIN / "ruff"), "check", ".")
    sh(str(BIN / "ruff"), "format", "--check", ".")
    sh(str(BIN / "lint-imports"))
    packages = ("core", "volunteers", "budget", "incentives", "sober", "appeals", "portal", "demo")
    sh(str(BIN / "bandit"), "-q", "-ll", "-r", *packages)
    # Byte-code caches are written even where the environment asks not to (this machine sets
    # PYTHONDONTWRITEBYTECODE): every process of a run (the test processes and the 40-odd
    # portal, worker and command processes the tests start) would compile the portal's
    # 270 modules from source again, a quarter of its start-up (issue 16, callgrind: 8.1 G
    # instructions to import wsgi without the caches, 6.2 G with them). They go to the
    # __pycache__ folders .gitignore leaves out.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    # Two or more processes (pytest-xdist); each builds its own template databases.
    workers = os.environ.get("PORTAL_TEST_WORKERS", str(min(4, max(2, os.cpu_count() or 2))))
    # Plain load balancing: no test needs a process of its own (pytest 9 ignores xdist_group,
    # and the security worlds are built once per run and copied, tests/portal/security/world.py).
    sh(str(PY), "-m", "pytest", "-n", workers, "--dist", "load", *pytest_args)


# English msgids are the English text: new entries of the en catalog are filled in from them.
FILL_ENGLISH = """
from babel.messages.pofile import read_po, write_po
path = 'portal/translations/en/LC_MESSAGES/messages.po'
with open(path, 'rb') as fh:
    catalog = read_po(fh, locale='en')
for message in catalog:
    if not message.id:
        continue
    if isinstance(message.id, (tuple, list)):  # plural: singular, then plural for the rest
        if not all(message.string):
            message.string = tuple(message.id)
    elif not message.string:
        message.string = message.id
with open(path, 'wb') as fh:
    write_po(fh, catalog, sort_output=True, width=100)
"""


def i18n() -> None:
    tr = "portal/translations"
    pybabel = str(BIN / "pybabel")
    sh(
        pybabel,
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        "--no-location",
        "--sort-output",
        "--omit-header",
        "-o",
        f"{tr}/messages.pot",
        ".",
    )
    sh(
        pybabel,
        "update",
        "-i",
        f"{tr}/messages.pot",
        "-d",
        tr,
        "--no-fuzzy-matching",
        "--ignore-obsolete",
    )
    sh(str(PY), "-c", FILL_ENGLISH)
    sh(pybabel, "compile", "-d", tr, "--statistics")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "run":
        run()
    elif command == "test":
        test(sys.argv[2:])
    elif command == "i18n":
        i18n()
    else:
        sys.exit(__doc__)
