"""Shifts, attendance and contributions: the volunteer's phone screens and the coordinator's."""
