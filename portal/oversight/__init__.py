"""Maslikhat oversight: deputies' dashboards, drill-down to the evidence, the audit-log browser.

``views.py`` defines the blueprint ``bp``; other modules of this package add routes to it and
are imported at the bottom of ``views.py``.
"""
