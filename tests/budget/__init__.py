"""Tests of budget: ledger and budget integrity."""
