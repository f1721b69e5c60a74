"""The finance blueprint, apart from its views so that each view module imports it one way.

``views.py`` and ``decision_views.py`` add routes to it; the app factory imports them both
before registering it.
"""

from flask import Blueprint

bp = Blueprint("finance", __name__, url_prefix="/finance")
