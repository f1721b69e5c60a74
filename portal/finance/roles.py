"""Who reads the budget screens, and the levels at which a maslikhat adopts a budget."""

READERS = ("finance", "deputy")
BUDGET_LEVELS = ("region", "city", "district")
