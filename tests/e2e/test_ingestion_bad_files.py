"""Files that cannot become a catalog, through the whole path: each gets one clear answer.

What the gateway can tell at once is refused at upload, before anything is stored:
an empty file (400), a file over the limit (413), content that is no CSV, XLSX or PDF
whatever its name (415). What only reading can tell fails the job with the parser's
own message (`parse_error`), and the worker goes on to the next job unharmed.
"""

import io
import tracemalloc
import zipfile
from typing import Any

import pymupdf
import pytest

from tests.support.ingestion_stack import IngestionStack, every_page, finished, upload
from tests.unit.ingestion.builders import text_pdf, zeros_archive

pytestmark = pytest.mark.rabbitmq

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Json = dict[str, Any]


def stored_blobs(stack: IngestionStack) -> int:
    return sum(1 for path in stack.blob_dir.rglob("*") if path.is_file())


async def failed_job(stack: IngestionStack, name: str, data: bytes, content_type: str) -> Json:
    """Upload `data`; return the job (which must fail) with its `/errors` answer."""
    async with stack.client(tenant="bad-files") as client:
        response = await upload(client, name, data, content_type)
        assert response.status_code == 202, response.text
        job = await finished(client, response.json()["id"])
        errors = (await client.get(f"/api/v1/jobs/{job['id']}/errors")).json()
    assert job["status"] == "failed"
    assert (job["total_items"], job["processed_items"], job["failed_items"]) == (0, 0, 0)
    assert errors["job_error"] == job["error"]
    assert errors["job_error_guidance"]["category"] == "parse_error"
    assert errors["groups"] == []
    return job


async def test_a_corrupt_pdf_fails_the_job_as_damaged(stack: IngestionStack) -> None:
    job = await failed_job(stack, "invoice.pdf", b"%PDF-1.7\nnot a PDF body", "application/pdf")

    assert job["error"].startswith("This PDF is damaged")


async def test_an_encrypted_pdf_asks_for_the_password_to_be_removed(stack: IngestionStack) -> None:
    data = text_pdf(
        ["Item  Qty  Price", "Mug  1  9.50"],
        encryption=pymupdf.mupdf.PDF_ENCRYPT_AES_256,
        user_pw="secret",
        owner_pw="owner",
    )

    job = await failed_job(stack, "locked.pdf", data, "application/pdf")

    assert job["error"].startswith("This PDF is protected by a password")


async def test_a_zip_bomb_named_xlsx_is_not_unpacked(stack: IngestionStack) -> None:
    job = await failed_job(stack, "catalog.xlsx", zeros_archive(16), XLSX)

    assert job["error"].startswith("This XLSX file unpacks to ")
    assert "zip bombs" in job["error"]


async def test_invalid_utf8_names_the_line(stack: IngestionStack) -> None:
    data = "Title,Price\nCafé,3\nOK,1\n".encode() + b"Bad \xff byte,2\n"

    job = await failed_job(stack, "menu.csv", data, "text/csv")

    assert job["error"].startswith("Line 4 of the file is not valid UTF-8 text")


async def test_ten_million_columns_fail_the_job_in_bounded_memory(stack: IngestionStack) -> None:
    data = b"," * 10_000_000 + b"\n"
    tracemalloc.start()
    try:
        job = await failed_job(stack, "wide.csv", data, "text/csv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert job["error"] == (
        "Line 1 has more than 1,000 columns, the limit. "
        "Check that the file is a product list and upload it again."
    )
    # Everything in this process (gateway, tracker, worker and the test's own copies of
    # the 10 MB upload) stayed far below what ten million cells would take (> 500 MB).
    assert peak < 96 * 1024 * 1024


async def test_an_empty_file_is_refused_at_upload(stack: IngestionStack) -> None:
    before = stored_blobs(stack)
    async with stack.client(tenant="bad-files") as client:
        response = await upload(client, "empty.csv", b"")

    assert response.status_code == 400
    assert response.json() == {"error": {"code": "bad_request", "message": "The file is empty."}}
    assert stored_blobs(stack) == before


async def test_a_png_named_csv_is_refused_at_upload(stack: IngestionStack) -> None:
    before = stored_blobs(stack)
    async with stack.client(tenant="bad-files") as client:
        response = await upload(client, "products.csv", PNG, "text/csv")

    assert response.status_code == 415
    assert response.json()["error"] == {
        "code": "unsupported_media_type",
        "message": "This file is a PNG image, not a CSV, XLSX or PDF file, "
        "even though its name ends in .csv.",
    }
    assert stored_blobs(stack) == before


async def test_a_word_document_is_refused_at_upload(stack: IngestionStack) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    async with stack.client(tenant="bad-files") as client:
        response = await upload(client, "catalog.xlsx", buffer.getvalue(), XLSX)

    assert response.status_code == 415
    assert response.json()["error"]["message"].startswith("This file is a Word document")


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "streamed"])
async def test_a_file_over_the_limit_is_refused_before_it_is_stored(
    stack: IngestionStack, announced: bool
) -> None:
    limit = 100_000
    data = b"Title,Price\n" + b"Mug,1\n" * 40_000  # 240 KB: past the limit and its framing
    before = stored_blobs(stack)
    async with stack.client(tenant="bad-files", upload_max_bytes=limit) as client:
        if announced:
            response = await upload(client, "big.csv", data)
        else:
            response = await client.post(
                "/api/v1/documents",
                content=_unannounced_multipart(data),
                headers={"Content-Type": "multipart/form-data; boundary=xyz"},
            )

    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "request_entity_too_large",
        "message": "The file is larger than the upload limit of 100,000 bytes. "
        "Split it into smaller files and upload them one by one.",
    }
    assert stored_blobs(stack) == before


async def test_a_file_just_over_the_limit_within_the_framing_is_refused_too(
    stack: IngestionStack,
) -> None:
    before = stored_blobs(stack)
    async with stack.client(tenant="bad-files", upload_max_bytes=1000) as client:
        response = await upload(client, "big.csv", b"Title\n" + b"x" * 1000)

    assert response.status_code == 413
    assert stored_blobs(stack) == before


async def test_a_request_without_the_file_field_says_what_is_missing(
    stack: IngestionStack,
) -> None:
    async with stack.client(tenant="bad-files") as client:
        response = await client.post(
            "/api/v1/documents", data={"other": "x"}, files={"x": ("a", b"1")}
        )

    assert response.status_code == 400
    assert "file" in response.json()["error"]["message"]


async def test_the_worker_survives_bad_files_and_takes_the_next_job(stack: IngestionStack) -> None:
    async with stack.client(tenant="after-bad") as client:
        await failed_job(stack, "broken.pdf", b"%PDF-1.4\ngarbage", "application/pdf")
        response = await upload(client, "fine.csv", b"SKU,Title\nF-1,Fork\n")
        job = await finished(client, response.json()["id"])
        products = await every_page(client, "/api/v1/products", "products")

    assert job["status"] == "completed"
    assert [product["sku"] for product in products] == ["F-1"]


async def _unannounced_multipart(data: bytes) -> Any:
    """A multipart body streamed in pieces with no Content-Length, as a chunked upload is."""
    yield b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
    yield b"Content-Type: text/csv\r\n\r\n"
    for start in range(0, len(data), 16_384):
        yield data[start : start + 16_384]
    yield b"\r\n--xyz--\r\n"
