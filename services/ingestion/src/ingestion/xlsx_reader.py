"""XLSX workbooks, every sheet that has a header row, read with python-calamine.

calamine (Rust) loads and iterates the 9,994-row Superstore sheet in about 0.1 s.
It is only handed a file that zipguard.py has checked, because it trusts sizes
and allocates whole grids. A sheet's header is its first non-empty row with at
least two text cells, so title lines above a table are skipped; sheets whose
header names no product are left to document.py to skip. Cells come back typed
and are written as the merchant saw them: 25.0 as "25", a date as 2024-05-01, a
barcode number with every digit.
"""

import datetime
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import BinaryIO

from python_calamine import CalamineError, CalamineSheet, CalamineWorkbook

from ingestion.tables import RawRow, RawTable
from ingestion.zipguard import check_archive
from jobs_shared.documents import DocumentError
from jobs_shared.documents.archive import DAMAGED

NO_HEADER = (
    "No sheet in this workbook has a header row: a row of column names such as Title, SKU "
    "and Price, within its first 20 rows."
)
_HEADER_SEARCH_ROWS = 20
_HEADER_MIN_TEXT_CELLS = 2
_FLOAT_DIGITS = 15

Cell = int | float | str | bool | datetime.date | datetime.time | datetime.timedelta
"""What calamine returns for a cell (datetime.datetime is a datetime.date)."""


def read_xlsx(f: BinaryIO) -> Iterator[RawTable]:
    check_archive(f)
    f.seek(0)
    try:
        workbook = CalamineWorkbook.from_filelike(f)
        tables = 0
        for name in workbook.sheet_names:
            table = _sheet_table(name, workbook.get_sheet_by_name(name))
            if table is not None:
                tables += 1
                yield table
    except CalamineError as exc:
        raise DocumentError(DAMAGED) from exc
    if not tables:
        raise DocumentError(NO_HEADER)


def _sheet_table(name: str, sheet: CalamineSheet) -> RawTable | None:
    first_row = sheet.start[0] + 1 if sheet.start else 1
    numbered = enumerate((_texts(row) for row in sheet.iter_rows()), start=first_row)
    for _, cells in islice(numbered, _HEADER_SEARCH_ROWS):
        if sum(1 for cell in cells if cell and not _is_number(cell)) >= _HEADER_MIN_TEXT_CELLS:
            return RawTable(header=cells, rows=_rows(numbered), sheet=name)
    return None


def _rows(numbered: Iterator[tuple[int, list[str]]]) -> Iterator[RawRow]:
    for number, cells in numbered:
        if any(cells):
            yield RawRow(number=number, cells=cells)


def _texts(row: Sequence[Cell]) -> list[str]:
    return [_text(value) for value in row]


def _text(value: Cell) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return format(value, f".{_FLOAT_DIGITS}g") if not value.is_integer() else str(int(value))
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value).strip()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
