"""Enrolment screens for citizens and the vetting, register and import screens for staff."""
