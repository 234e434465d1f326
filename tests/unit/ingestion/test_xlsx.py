"""Workbooks: header rows found on every sheet, typed cells as text, hostile archives refused."""

import time
import tracemalloc
from decimal import Decimal

import pytest

from ingestion import DocumentError, ProductRow, read_document
from ingestion.xlsx_reader import NO_HEADER
from jobs_shared.documents.archive import DAMAGED
from tests.unit.ingestion.builders import understate_size, xlsx, zeros_archive


def refused(data: bytes) -> str:
    with pytest.raises(DocumentError) as raised:
        list(read_document(data, "products.xlsx"))
    return raised.value.message


def test_every_sheet_with_a_product_header_is_read_below_its_title_lines() -> None:
    data = xlsx(
        {
            "Notes": [("A1", "Exported 2024-05-01")],
            "Hats": [
                ("A1", "Price list"),
                ("A3", "SKU"),
                ("B3", "Name"),
                ("C3", "Price"),
                ("D3", "EAN"),
                ("E3", "In stock"),
                ("A4", 1001.0),
                ("B4", "Beanie"),
                ("C4", 12.5),
                ("D4", 4006381333931.0),
                ("A6", 1002.0),
                ("B6", "Cap"),
                ("C6", 0.1 + 0.2),
            ],
            "People": [("A1", "Person"), ("B1", "Region"), ("A2", "Anna"), ("B2", "West")],
            "Scarves": [("A1", "Title"), ("B1", "Price"), ("A2", "Wool scarf"), ("B2", "€ 30")],
        }
    )

    rows = [row for row in read_document(data) if isinstance(row, ProductRow)]

    assert [(r.sheet, r.row, r.sku, r.title, r.price, r.gtin) for r in rows] == [
        ("Hats", 4, "1001", "Beanie", Decimal("12.5"), "4006381333931"),
        ("Hats", 6, "1002", "Cap", Decimal("0.3"), None),
        ("Scarves", 2, None, "Wool scarf", Decimal("30"), None),
    ]
    assert rows[2].currency == "EUR"


def test_row_errors_name_the_sheet() -> None:
    data = xlsx({"Stock": [("A1", "Name"), ("B1", "Price"), ("A2", "Hat"), ("B2", "n/a")]})

    [error] = list(read_document(data))

    assert error.model_dump() == {
        "row": 2,
        "sheet": "Stock",
        "page": None,
        "field": "price",
        "message": "Sheet 'Stock', row 2: price 'n/a' is not a number",
    }


def test_workbook_without_any_header_row() -> None:
    assert refused(xlsx({"Sheet1": [("A1", "just one cell")]})) == NO_HEADER


def test_workbook_whose_sheets_name_no_product() -> None:
    data = xlsx({"People": [("A1", "Person"), ("B1", "Region"), ("A2", "Anna"), ("B2", "West")]})

    assert refused(data) == (
        "We found no column with the product name: name one Title, Name or Product name. "
        "The file has: sheet 'People' (Person, Region)."
    )


def test_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    bomb = zeros_archive(256)  # 256 MiB of zeros in about 1 MiB
    tracemalloc.start()
    started = time.monotonic()
    try:
        message = refused(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert message == (
        "This XLSX file unpacks to 256 MB, which is how files built to exhaust memory (zip "
        "bombs) look, so it was not opened. Save it again from your spreadsheet program or "
        "split it into smaller files."
    )
    assert peak < 4 * 1024 * 1024
    assert time.monotonic() - started < 1


def test_an_entry_compressed_beyond_reason_is_refused() -> None:
    message = refused(zeros_archive(8))  # 8 MiB of zeros pack about 200:1

    assert message.startswith("This XLSX file unpacks to ")
    assert message.endswith(
        " times its packed size, which is how files built to exhaust memory (zip bombs) look, "
        "so it was not opened. Save it again from your spreadsheet program or split it into "
        "smaller files."
    )


def test_an_entry_that_unpacks_to_more_than_its_headers_claim_is_refused() -> None:
    lying = understate_size(zeros_archive(4), "xl/worksheets/sheet1.xml", 64 * 1024)

    assert refused(lying) == DAMAGED + " Its contents are larger than its index says."


def test_one_cell_far_to_the_right_is_refused_before_calamine_allocates_the_grid() -> None:
    # calamine would allocate 16,384 x 200,000 cells (about 100 GB) and abort the process.
    data = xlsx({"Sheet1": [("A1", "Name"), ("B1", "Price"), ("XFD200000", "x")]})

    assert refused(data) == (
        "A sheet in this workbook reaches column 16,384; the limit is 1,000 columns. Delete "
        "the unused columns and upload it again."
    )


def test_one_cell_far_down_is_refused_when_the_grid_is_too_large() -> None:
    data = xlsx({"Sheet1": [("A1", "Name"), ("B1", "Price"), ("Z1048576", "x")]})

    assert refused(data) == (
        "A sheet in this workbook spans 1,048,576 rows by 26 columns, more than the limit of "
        "10,000,000 cells. Split it into smaller files."
    )
