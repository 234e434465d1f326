"""PDF tables: ruled ones through find_tables(), and each unreadable PDF with its own message."""

from decimal import Decimal

import pymupdf
import pytest

from ingestion import DocumentError, ProductRow, read_document
from ingestion.pdf_reader import DAMAGED, NO_TABLE, PROTECTED
from tests.unit.ingestion.builders import DATA, ruled_table_pdf, text_pdf


def refused(data: bytes) -> str:
    with pytest.raises(DocumentError) as raised:
        list(read_document(data, "invoice.pdf"))
    return raised.value.message


def test_ruled_table_with_a_wrapped_name() -> None:
    data = ruled_table_pdf(
        [
            ["Product", "Qty", "Unit price"],
            ["Blue Mug\nStoneware", "2", "EUR 9,50"],
            ["Red Plate", "1", "12.00"],
        ]
    )

    rows = [row for row in read_document(data) if isinstance(row, ProductRow)]

    assert [(r.page, r.row, r.title, r.quantity, r.price, r.currency) for r in rows] == [
        (1, 1, "Blue Mug\nStoneware", Decimal("2"), Decimal("9.50"), "EUR"),
        (1, 2, "Red Plate", Decimal("1"), Decimal("12.00"), None),
    ]


def test_row_errors_name_the_page_and_line() -> None:
    data = ruled_table_pdf([["Item", "Qty", "Price"], ["Mug", "2", "9.50"], ["Cup", "1", "ask"]])

    results = list(read_document(data))

    assert results[1].model_dump() == {
        "row": 2,
        "sheet": None,
        "page": 1,
        "field": "price",
        "message": "Page 1, line 2: price 'ask' is not a number",
    }


def test_corrupt_pdf() -> None:
    assert refused(b"%PDF-1.7\nthis is not a PDF body at all") == DAMAGED


def test_truncated_pdf_without_pages() -> None:
    data = (DATA / "pdf" / "coolblue1.pdf").read_bytes()

    assert refused(data[:20_000]) == DAMAGED


def test_password_protected_pdf() -> None:
    data = text_pdf(
        ["Item  Qty  Price", "Mug  1  9.50"],
        encryption=pymupdf.mupdf.PDF_ENCRYPT_AES_256,
        user_pw="secret",
        owner_pw="owner",
    )

    assert refused(data) == PROTECTED


def test_pdf_without_a_product_table() -> None:
    assert refused(text_pdf(["Dear customer,", "thank you for your order."])) == NO_TABLE


def test_the_three_messages_differ() -> None:
    assert len({DAMAGED, PROTECTED, NO_TABLE}) == 3
    assert NO_TABLE.startswith("This PDF has no product table")
