"""Sober settlements: registry, indicators, initiatives and the public page."""
