"""The volunteers' blueprint, apart from its views so that each view module imports it one way.

``views.py``, ``application_views.py``, ``register_views.py`` and ``import_views.py`` add
routes to it; the app factory imports them all before registering it.
"""

from flask import Blueprint

bp = Blueprint("volunteers", __name__)
