"""Line-item tables of PDF files (invoices, order confirmations, price lists).

A PDF has no rows, only text placed on pages, so this finds tables: first those
PyMuPDF's find_tables() sees from their ruling lines, then, on pages without
one, tables laid out by position alone (pdf_layout.py). Only tables whose
header names the item and its quantity or price count, which keeps address
blocks and totals out. Invoices often put the article code in front of the
name, "[FURN_7777] Office Chair" or "*987123* Olive Oil" (a barcode); these are
moved to their own columns so the name is the name. Damaged, password-protected
and table-less PDFs each get their own message, since each has its own fix.
"""

import re
from collections.abc import Iterator
from typing import BinaryIO

import pymupdf

from ingestion.columns import ColumnMap, Field
from ingestion.pdf_layout import layout_tables
from ingestion.tables import RawRow, RawTable
from jobs_shared.documents import DocumentError

DAMAGED = "This PDF is damaged and cannot be opened. Save or print it to a new PDF and upload that."
PROTECTED = (
    "This PDF is protected by a password. Remove the password (for example by printing it "
    "to a new PDF) and upload it again."
)
NO_TABLE = (
    "This PDF has no product table: we look for a table whose header names the item "
    "(Description, Item, Product, Name...) and its quantity or unit price. A scanned PDF has "
    "no text to read. Upload the products as a CSV or XLSX file instead."
)
# find_tables() prints an advert for pymupdf-layout once per process; that package
# pulls in onnxruntime (over 100 MB) for page analysis these tables do not need.
pymupdf.no_recommend_layout()  # type: ignore[no-untyped-call]

_CODE = re.compile(r"\[([^\]\n]+)\]\s*")
_BARCODE = re.compile(r"\*(\d+)\*\s*")
_CODE_COLUMNS = ((_CODE, "Item code"), (_BARCODE, "Barcode"))


def read_pdf(f: BinaryIO) -> Iterator[RawTable]:
    f.seek(0)
    try:
        document = pymupdf.open(stream=f.read(), filetype="pdf")  # type: ignore[no-untyped-call]
    except RuntimeError as exc:
        raise DocumentError(DAMAGED) from exc
    with document:
        if document.needs_pass:
            raise DocumentError(PROTECTED)
        if document.page_count == 0:
            raise DocumentError(DAMAGED)
        found = False
        for number in range(document.page_count):
            line = 0  # counted over all tables of the page: "Page 2, line 5" names one line
            for header, rows in _page_tables(document, number):
                found = True
                yield RawTable(
                    header=header,
                    rows=[RawRow(line + n, cells) for n, cells in enumerate(rows, start=1)],
                    page=number + 1,
                )
                line += len(rows)
        if not found:
            raise DocumentError(NO_TABLE)


def _page_tables(
    document: pymupdf.Document, number: int
) -> list[tuple[list[str], list[list[str]]]]:
    try:
        page = document[number]
        tables = _ruled_tables(page) or layout_tables(page)
    except (RuntimeError, pymupdf.mupdf.FzErrorBase) as exc:
        raise DocumentError(DAMAGED) from exc
    return [_split_codes(header, rows) for header, rows in tables]


def _ruled_tables(page: pymupdf.Page) -> list[tuple[list[str], list[list[str]]]]:
    tables = []
    for table in page.find_tables().tables:  # type: ignore[no-untyped-call]
        header = [name or "" for name in table.header.names]
        rows = [[cell or "" for cell in row] for row in table.extract()]
        if ColumnMap.from_header(header).is_line_item_table:
            tables.append((header, rows if table.header.external else rows[1:]))
    return tables


def _split_codes(header: list[str], rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """Move a leading "[code]" or "*barcode*" out of the name into a column of its own."""
    title = ColumnMap.from_header(header).fields[Field.TITLE]
    for pattern, column in _CODE_COLUMNS:
        codes = []
        for row in rows:
            match = pattern.match(row[title])
            codes.append(match[1] if match else "")
            if match:
                row[title] = row[title][match.end() :]
        if any(codes):
            header = [*header, column]
            rows = [[*row, code] for row, code in zip(rows, codes, strict=True)]
    return header, rows
