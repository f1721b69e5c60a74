"""The sober-settlement blueprint, apart from its views so that each view module imports it one way.

``views.py``, ``indicator_views.py`` and ``initiative_views.py`` add routes to it; the app
factory imports them all before registering it.
"""

from flask import Blueprint

bp = Blueprint("sober", __name__)
