"""The reward commission: policy, nominations, sessions, votes, minutes, payouts, my rewards."""
