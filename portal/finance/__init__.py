"""Budget screens: lines and their ledger, programs, maslikhat decisions, fiscal years, MCI."""
