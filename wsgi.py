"""The WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi``."""

import sys

from portal import create_app
from portal.database import StartupError

try:
    app = create_app()
except StartupError as exc:
    # One clear line instead of a traceback: the operator has a service to fix, not a bug.
    sys.exit(f"portal: {exc}")
