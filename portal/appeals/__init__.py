"""Pages for hearings before burdensome acts and complaints against them."""
