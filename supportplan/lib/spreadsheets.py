"""Text cells of the workbooks the exports write (the scope matrix, the RACI grid)."""

from __future__ import annotations

import re
from typing import Any

#: A spreadsheet treats a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

#: Control characters a workbook (XML 1.0) cannot hold; stored text may contain them (the API accepts
#: any text but NUL), and openpyxl refuses the whole export for one of them.
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def write_text(cell: Any, value: str) -> None:
    """Writes ``value`` into an openpyxl cell as text, never as a formula: openpyxl would store text
    starting with "=" as one, and Excel would re-read it as one when the cell is edited unless it is
    quote-prefixed. A control character a workbook cannot hold is shown as U+FFFD."""
    cell.value = _UNWRITABLE.sub("\ufffd", value)
    cell.data_type = "s"
    if value.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True
