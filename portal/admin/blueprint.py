"""The admin blueprint, apart from its views so that each view module imports it one way.

``views.py``, ``record_views.py`` and ``settings_views.py`` add routes to it; the app factory
imports them all before registering it.
"""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
