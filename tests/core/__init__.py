"""Tests of core: audit chain, calendar, clock, IIN, jurisdictions, scope, workflows."""
