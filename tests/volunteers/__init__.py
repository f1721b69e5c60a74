"""Tests of volunteers: enrolment, register import, shifts, contributions."""
