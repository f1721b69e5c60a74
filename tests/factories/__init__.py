"""Factories: records the tests start from, made through the domain functions."""
