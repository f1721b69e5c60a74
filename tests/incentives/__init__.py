"""Tests of incentives: commission, payouts, red flags, inquiries, exports, reports."""
