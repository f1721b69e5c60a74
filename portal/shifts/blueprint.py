"""The shifts blueprint, apart from its views so that each view module imports it one way.

``views.py``, ``shift_views.py`` and ``contribution_views.py`` add routes to it; the app
factory imports them all before registering it.
"""

from flask import Blueprint

bp = Blueprint("shifts", __name__)
