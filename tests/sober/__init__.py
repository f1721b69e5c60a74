"""Tests of sober settlements."""
