"""Budget programs, maslikhat decisions, budget lines, amendments, the ledger and reports."""
