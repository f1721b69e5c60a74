"""The oversight blueprint, apart from its views so that each view module imports it one way.

``views.py``, ``export_views.py``, ``flag_views.py``, ``inquiry_views.py``, ``pii_views.py``
and ``report_views.py`` add routes to it; the app factory imports them all before registering.
"""

from flask import Blueprint

bp = Blueprint("oversight", __name__, url_prefix="/oversight")
