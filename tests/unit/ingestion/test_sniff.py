"""The content decides what a file is; anything we cannot read is named for what it is."""

import contextlib
import io
import zipfile

import pytest

from ingestion import DocumentError, read_document
from tests.unit.ingestion.builders import DATA

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def refused(data: bytes, name: str | None = None) -> str:
    with pytest.raises(DocumentError) as raised:
        list(read_document(data, name))
    assert raised.value.category == "parse_error"
    return raised.value.message


def zip_of(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def test_png_named_csv() -> None:
    assert refused(PNG, "products.csv") == (
        "This file is a PNG image, not a CSV, XLSX or PDF file, even though its name ends in .csv."
    )


def test_png_without_a_name() -> None:
    assert refused(PNG) == "This file is a PNG image, not a CSV, XLSX or PDF file."


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "an Excel 97-2003 workbook (.xls)"),
        (b"\xff\xd8\xff\xe0" + bytes(100), "a JPEG image"),
        (b"\x1f\x8b\x08" + bytes(100), "a GZIP archive"),
        (b"\x01\x02\x00\x03binary", "binary data"),
        (b'<?xml version="1.0"?><rss></rss>', "an XML or HTML document"),
        (b'{"products": []}', "a JSON document"),
        (zip_of("word/document.xml"), "a Word document"),
        (zip_of("notes.txt"), "a ZIP archive"),
    ],
)
def test_other_formats_are_named(data: bytes, what: str) -> None:
    assert refused(data).startswith(f"This file is {what}")


def test_a_workbook_named_csv_is_still_read_as_a_workbook() -> None:
    data = (DATA / "catalogs" / "superstore-orders.xlsx").read_bytes()

    first = next(read_document(data, "orders.csv"))

    assert first.sheet == "Orders"


def test_a_damaged_zip_is_called_damaged() -> None:
    data = zip_of("xl/workbook.xml")

    assert refused(data[: len(data) - 30]) == (
        "This file looks like an XLSX workbook but it is damaged and cannot be opened."
    )


@pytest.mark.parametrize(
    "name", ["shopify_product_template.csv", "superstore-orders.xlsx", "../pdf/coolblue1.pdf"]
)
@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_truncated_real_files_never_raise_anything_but_document_error(
    name: str, fraction: float
) -> None:
    data = (DATA / "catalogs" / name).read_bytes()

    with contextlib.suppress(DocumentError):  # any other exception fails the test
        list(read_document(data[: int(len(data) * fraction)], name))
