"""Enrolment and vetting, the register of members, patrol units, shifts and contributions."""
