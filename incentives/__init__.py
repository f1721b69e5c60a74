"""Reward policy, the commission, sessions, nominations, votes, payouts and sober settlements."""
