"""Who does what on the commission's screens, and the levels at which an akimat pays rewards."""

AKIMAT_LEVELS = ("region", "city", "district")
NOMINATORS = ("coordinator",)
SECRETARIES = ("secretary",)
SESSION_READERS = ("secretary", "chair", "deputy")
VOTERS = ("member", "chair", "secretary")
PAYERS = ("finance",)
PAYOUT_READERS = ("finance", "deputy")
