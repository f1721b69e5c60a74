"""Tests of the portal: pages, sign-in, jobs runtime, operations, translations."""
