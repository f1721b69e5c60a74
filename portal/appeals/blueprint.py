"""The appeals blueprint and who reads its pages, apart from the views that add routes to it."""

from flask import Blueprint

bp = Blueprint("appeals", __name__)

# Officials who act on hearings or complaints somewhere; each page checks the unit itself.
CASE_READERS = ("registrar", "secretary", "coordinator", "reviewer")
