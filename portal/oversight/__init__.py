"""Maslikhat oversight: deputies' dashboards, drill-down to the evidence, the audit-log browser.

``blueprint.py`` holds the blueprint ``bp``; each route module of this package adds its routes to
it, and the app factory imports them.
"""
