"""Sober settlements: the registry of declarations, quarterly indicators and initiatives.

A settlement's sober status is a voluntary commitment its residents make at a gathering; shops
stop selling alcohol of their own will. The portal records it and follows the indicators; it
never treats the status as a legal ban.

The tables and workflows stay in ``incentives`` (``incentives/sober_models.py``,
``incentives/workflow.py``), whose nominations reward initiatives; this package sits above
``incentives`` and holds the rules. The names below are its API; the modules hold the rest.
"""

from incentives.nominations import can_be_nominated
from sober.declarations import (
    MAX_ATTENDANCE,
    MAX_PDF_BYTES,
    add_outlet,
    confirm,
    declare,
    get_declaration,
    revoke,
    store_record_pdf,
)
from sober.indicators import (
    FIRST_YEAR,
    IMPORT_COLUMNS,
    MAX_VALUE,
    check_indicator_file,
    import_indicator_rows,
    indicator_kinds,
    read_indicator_table,
    record_indicator,
    save_indicator_kind,
    values_for,
)
from sober.initiatives import (
    comment_initiative,
    get_initiative,
    review_initiative,
    review_targets,
    submit_initiative,
)
from sober.quarters import Quarter, quarter_of, quarter_start, quarters_between, shift_quarter
from sober.trends import (
    BASELINE_MAX_YEARS,
    BASELINE_MIN_YEARS,
    Area,
    Trend,
    combined_trend,
    percent_change,
    public_overview,
    series,
    trend,
)

__all__ = [
    "BASELINE_MAX_YEARS",
    "BASELINE_MIN_YEARS",
    "FIRST_YEAR",
    "IMPORT_COLUMNS",
    "MAX_ATTENDANCE",
    "MAX_PDF_BYTES",
    "MAX_VALUE",
    "Area",
    "Quarter",
    "Trend",
    "add_outlet",
    "can_be_nominated",
    "check_indicator_file",
    "combined_trend",
    "comment_initiative",
    "confirm",
    "declare",
    "get_declaration",
    "get_initiative",
    "import_indicator_rows",
    "indicator_kinds",
    "percent_change",
    "public_overview",
    "quarter_of",
    "quarter_start",
    "quarters_between",
    "read_indicator_table",
    "record_indicator",
    "review_initiative",
    "review_targets",
    "revoke",
    "save_indicator_kind",
    "series",
    "shift_quarter",
    "store_record_pdf",
    "submit_initiative",
    "trend",
    "values_for",
]
