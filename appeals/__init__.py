"""Hearings before burdensome acts and complaints against them (APPK Arts. 73-101)."""
