"""The shape every reader hands on: a header and its rows of plain text cells.

CSV, XLSX and PDF differ in how they are read, not in what a product row is, so
each reader reduces its format to this and products.py never learns the format.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row: `number` is where the merchant finds it (row in the file or
    sheet, line of the table on a PDF page)."""

    number: int
    cells: Sequence[str]


@dataclass(frozen=True, slots=True)
class RawTable:
    header: Sequence[str]
    rows: Iterable[RawRow]
    sheet: str | None = None
    page: int | None = None

    def where(self, row: int) -> str:
        return where(row, self.sheet, self.page)


def where(row: int, sheet: str | None = None, page: int | None = None) -> str:
    """How a message (and a job's item label) names a row, in the merchant's terms for
    its format: "Row 7", "Sheet 'Orders', row 7", "Page 2, line 3"."""
    if page is not None:
        return f"Page {page}, line {row}"
    if sheet is not None:
        return f"Sheet '{sheet}', row {row}"
    return f"Row {row}"
