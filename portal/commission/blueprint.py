"""The commission's blueprint, apart from its views so that each view module imports it one way.

``views.py``, ``session_views.py``, ``payout_views.py`` and ``tax_views.py`` add routes to it;
the app factory imports them all before registering it.
"""

from flask import Blueprint

bp = Blueprint("commission", __name__, url_prefix="/commission")
