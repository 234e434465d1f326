"""Delimited text as merchants' tools write it, and the files that must fail cleanly."""

import csv
import tracemalloc
from decimal import Decimal

import pytest

from ingestion import DocumentError, ProductRow, RowError, read_document
from ingestion.products import ProductRowResult


def read(data: bytes) -> list[ProductRowResult]:
    return list(read_document(data, "products.csv"))


def only_products(data: bytes) -> list[ProductRow]:
    results = read(data)
    assert all(isinstance(result, ProductRow) for result in results), results
    return [result for result in results if isinstance(result, ProductRow)]


def refused(data: bytes) -> str:
    with pytest.raises(DocumentError) as raised:
        read(data)
    return raised.value.message


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_any_common_delimiter(delimiter: str) -> None:
    text = f"SKU{delimiter}Title{delimiter}Price\nA-1{delimiter}Mug{delimiter}9.50\n"

    [row] = only_products(text.encode())

    assert (row.sku, row.title, row.price) == ("A-1", "Mug", Decimal("9.50"))


def test_semicolon_file_with_decimal_commas_as_excel_writes_it_in_europe() -> None:
    data = 'Artikelnummer;Bezeichnung;Preis\n"X 1";"Tasse, blau";"1.299,00 €"\n'.encode()

    [row] = only_products(data)

    assert (row.sku, row.title, row.price, row.currency) == (
        "X 1",
        "Tasse, blau",
        Decimal("1299.00"),
        "EUR",
    )


def test_utf8_byte_order_mark_is_not_part_of_the_first_header() -> None:
    [row] = only_products("\ufeffTitle,SKU\nCafé,C1\n".encode())

    assert (row.title, row.sku) == ("Café", "C1")


def test_utf16_with_byte_order_mark() -> None:
    [row] = only_products("Title\tPrice\nÄpfel\t3\n".encode("utf-16"))

    assert (row.title, row.price) == ("Äpfel", Decimal("3"))


def test_windows_1252_file_is_decoded_as_such() -> None:
    data = "Name;Price\nCafé crème;12,50 €\nBière;3\n".encode("cp1252")

    rows = only_products(data)

    assert [(row.title, row.price, row.currency) for row in rows] == [
        ("Café crème", Decimal("12.50"), "EUR"),
        ("Bière", Decimal("3"), None),
    ]


def test_invalid_utf8_after_valid_utf8_fails_naming_the_line() -> None:
    data = "name\nCafé\nOK\n".encode() + b"Bad \xff byte\n"

    assert refused(data) == (
        "Line 4 of the file is not valid UTF-8 text, although the lines before it are: the "
        "file may be damaged or mix two encodings. Save the file as CSV UTF-8 and upload it "
        "again."
    )


def test_bytes_that_no_supported_encoding_reads_fail_naming_the_line() -> None:
    assert refused(b"name\nfine\nA\x81B\n") == (
        "Line 3 of the file contains bytes that are neither UTF-8 nor Windows-1252 text. "
        "Save the file as CSV UTF-8 and upload it again."
    )


def test_quoted_fields_may_hold_delimiters_quotes_and_line_breaks() -> None:
    data = b'title,description,price\n"Mug, ""big""","line one\nline two",5\nCap,plain,3\n'

    rows = only_products(data)

    assert [(row.row, row.title) for row in rows] == [(2, 'Mug, "big"'), (3, "Cap")]
    assert rows[0].description == "line one\nline two"


def test_blank_lines_are_skipped_but_still_count_as_rows() -> None:
    rows = only_products(b"\ntitle,price\n\nMug,1\n")

    assert [(row.row, row.title) for row in rows] == [(4, "Mug")]


def test_google_merchant_center_feed() -> None:
    data = (
        b"id\ttitle\tdescription\tlink\timage_link\tprice\tbrand\tgtin\tmpn\t"
        b"google_product_category\tproduct_type\tavailability\n"
        b"GMC-1\tTrail Shoe\tLight shoe\thttps://shop.example/p/1\t"
        b"https://shop.example/i/1.jpg\t15.00 USD\tAcme\t4006381333931\tTS-9\t"
        b"Apparel & Accessories > Shoes\tShoes > Trail\tin_stock\n"
    )

    [row] = only_products(data)

    assert row.model_dump(exclude={"attributes", "warnings", "row"}) == {
        "sheet": None,
        "page": None,
        "sku": "GMC-1",
        "title": "Trail Shoe",
        "description": "Light shoe",
        "price": Decimal("15.00"),
        "currency": "USD",
        "quantity": None,
        "gtin": "4006381333931",
        "brand": "Acme",
        "image_url": "https://shop.example/i/1.jpg",
        "url": "https://shop.example/p/1",
        "category": "Apparel & Accessories > Shoes",
        "product_key": "GMC-1",
    }
    assert row.attributes == {
        "mpn": "TS-9",
        "product_type": "Shoes > Trail",
        "availability": "in_stock",
    }


def test_each_bad_row_is_one_row_error_in_merchant_words() -> None:
    data = (
        b'name,price,currency\n,5,\nHat,abc,\nCap,-3,\nBag,"$1,299.00",\nPen,2,dollars\nOk,1,usd\n'
    )

    results = read(data)

    errors = [(r.row, r.field, r.message) for r in results if isinstance(r, RowError)]
    assert errors == [
        (2, "title", "Row 2: no title or name"),
        (3, "price", "Row 3: price 'abc' is not a number"),
        (4, "price", "Row 4: price '-3' is negative"),
        (6, "currency", "Row 6: currency 'dollars' is not a currency code such as USD or EUR"),
    ]
    fine = [(r.title, r.price, r.currency) for r in results if isinstance(r, ProductRow)]
    assert fine == [("Bag", Decimal("1299.00"), None), ("Ok", Decimal("1"), "USD")]


def test_a_row_with_several_problems_names_them_all() -> None:
    [error] = read(b"title,price,qty\n,abc,many\n")

    assert isinstance(error, RowError)
    assert error.field == "title"
    assert error.message == (
        "Row 2: no title or name; price 'abc' is not a number; quantity 'many' is not a number"
    )


def test_cells_past_the_header_are_kept() -> None:
    [row] = only_products(b"title,price\nMug,1,extra\n")

    assert row.attributes == {"Column 3": "extra"}


@pytest.mark.parametrize("data", [b"", b"\n\n   \r\n"])
def test_empty_file(data: bytes) -> None:
    assert refused(data) == "The file is empty."


def test_header_without_rows() -> None:
    assert refused(b"title,price\n\n") == "The file has a header row but no product rows."


def test_header_without_a_product_name_column() -> None:
    assert refused(b"colour,size\nred,M\n") == (
        "We found no column with the product name: name one Title, Name or Product name. "
        "The file has: colour, size."
    )


def test_ten_million_columns_fail_clearly_in_bounded_memory() -> None:
    data = b"," * 20_000_000 + b"\n"
    tracemalloc.start()
    try:
        message = refused(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert message == (
        "Line 1 has more than 1,000 columns, the limit. "
        "Check that the file is a product list and upload it again."
    )
    assert peak < 16 * 1024 * 1024


def test_too_many_columns_within_the_line_limit_fail_on_the_row() -> None:
    data = b"title,price\n" + b"Mug,1" + b",x" * 1500 + b"\n"

    assert refused(data) == "Row 2 has 1,502 columns; the limit is 1,000."


def test_a_gigantic_field_fails_clearly_in_bounded_memory() -> None:
    data = b'title,description\nMug,"' + (b"x" * 1000 + b"\n") * 20_000 + b'"\n'
    tracemalloc.start()
    try:
        message = refused(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    limit = csv.field_size_limit()
    assert message == (
        f"Row 2 has a value longer than {limit:,} characters, the limit: a quote mark is "
        "probably never closed."
    )
    assert peak < 16 * 1024 * 1024


def test_a_single_enormous_line_fails_clearly() -> None:
    data = b"title,description\nMug," + b"x" * 2_000_000 + b"\n"

    assert refused(data) == (
        "Line 2 is longer than 1,048,576 characters, the limit for one line. "
        "Check that the file is a product list and upload it again."
    )


def test_nul_bytes_after_the_first_64_kib_fail_naming_the_line() -> None:
    data = b"title,price\n" + b"Mug,1\n" * 20_000 + b"Bad\x00,2\n"

    assert refused(data) == (
        "Line 20,002 contains a NUL character, which text never holds: the file is damaged "
        "or is not a CSV file."
    )


def test_a_stray_quote_is_read_as_spreadsheet_programs_read_it() -> None:
    rows = only_products(b'title,price\nMug,1\n"Cap"s,2\n')

    assert [row.title for row in rows] == ["Mug", "Caps"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"\xef\xbb\xbftitle\nMug\nBad \xff\n",
            "Line 3 of the file is not valid UTF-8 text, although the file starts by saying it "
            "is. Save the file as CSV UTF-8 and upload it again.",
        ),
        (
            "title\nMug\n".encode("utf-16") + b"\x00",
            "Line 3 of the file is not valid UTF-16 text, although the file starts by saying "
            "it is. Save the file as CSV UTF-8 and upload it again.",
        ),
    ],
)
def test_a_byte_order_mark_followed_by_other_text_fails_naming_the_line(
    data: bytes, message: str
) -> None:
    assert refused(data) == message


def test_a_lone_quote_is_an_empty_file() -> None:
    assert refused(b'"') == "The file is empty."
