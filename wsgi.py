"""The WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi``."""

import gc
import sys

# Start-up makes some 320,000 objects the collector tracks and frees almost none, so the
# collections run while it imports find nothing: they were an eighth of a process's start
# (issue 16, callgrind: 6.2 G instructions with them, 5.5 G without). What start-up made is
# then frozen: it lives as long as the process, so the running portal's full collections need
# not walk it, and gunicorn's workers, forked from the master after this (preload_app), do not
# copy its pages by doing so.
gc.disable()
try:
    from portal import create_app
    from portal.database import StartupError

    try:
        app = create_app()
    except StartupError as exc:
        # One clear line instead of a traceback: the operator has a service to fix, not a bug.
        sys.exit(f"portal: {exc}")
finally:
    gc.enable()
gc.freeze()
