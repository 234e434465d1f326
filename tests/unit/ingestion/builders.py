"""Small files the tests make for themselves: XLSX workbooks, PDFs and zip surgery.

Real merchant files are read from shared/data in place; these cover the cases
no real sample shows (hostile archives, passwords, ruled tables) and are built
in memory, so the suite writes nothing into the repository.
"""

import io
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import pymupdf
from pydantic import TypeAdapter

from ingestion.items import encoded_items, row_fields
from ingestion.products import ProductRowResult
from jobs_shared.contracts import WorkItem
from jobs_shared.contracts.work import EncodedItems

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_CONTENT_TYPES = (
    f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_PKG}/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>{overrides}</Types>'
)
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

Cell = tuple[str, str | float]
"""A cell reference such as "B7" and its value."""


def xlsx(sheets: dict[str, Sequence[Cell]]) -> bytes:
    """A minimal but genuine workbook: one worksheet per entry, cells as given."""
    buffer = io.BytesIO()
    names = list(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_SHEET_TYPE}"/>'
        for i in range(1, len(names) + 1)
    )
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES.format(overrides=overrides))
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{_PKG}/relationships"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
            + "".join(
                f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
                for i, name in enumerate(names, start=1)
            )
            + "</sheets></workbook>",
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{_PKG}/relationships">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" '
                f'Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, len(names) + 1)
            )
            + "</Relationships>",
        )
        for i, name in enumerate(names, start=1):
            archive.writestr(f"xl/worksheets/sheet{i}.xml", _sheet(sheets[name]))
    return buffer.getvalue()


def _sheet(cells: Sequence[Cell]) -> str:
    rows: dict[int, list[str]] = {}
    for ref, value in cells:
        row = int("".join(char for char in ref if char.isdigit()))
        if isinstance(value, str):
            xml = f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
        else:
            xml = f'<c r="{ref}"><v>{value!r}</v></c>'
        rows.setdefault(row, []).append(xml)
    body = "".join(f'<row r="{row}">{"".join(rows[row])}</row>' for row in sorted(rows))
    return f'<worksheet xmlns="{_MAIN}"><sheetData>{body}</sheetData></worksheet>'


def zeros_archive(megabytes: int) -> bytes:
    """A zip that passes for a workbook and holds `megabytes` MiB of zeros, streamed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("xl/workbook.xml", f'<workbook xmlns="{_MAIN}"/>')
        with archive.open("xl/worksheets/sheet1.xml", "w") as entry:
            chunk = bytes(1 << 20)
            for _ in range(megabytes):
                entry.write(chunk)
    return buffer.getvalue()


def understate_size(archive: bytes, name: str, size: int) -> bytes:
    """The same archive, with both headers of `name` claiming it unpacks to `size` bytes."""
    data = bytearray(archive)
    with zipfile.ZipFile(io.BytesIO(archive)) as parsed:
        local = parsed.getinfo(name).header_offset
    struct.pack_into("<I", data, local + 22, size)
    central = data.find(b"PK\x01\x02" + data[local + 4 : local + 8])
    while data[central + 46 : central + 46 + len(name)] != name.encode():
        central = data.find(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, size)
    return bytes(data)


def text_pdf(lines: Sequence[str], **save_options: object) -> bytes:
    """A one-page PDF with each line of text under the previous one."""
    document = pymupdf.open()  # type: ignore[no-untyped-call]
    page = document.new_page()
    for index, line in enumerate(lines):
        page.insert_text((72, 72 + 18 * index), line, fontsize=11)
    return bytes(document.tobytes(**save_options))  # type: ignore[no-untyped-call]


def ruled_table_pdf(rows: Sequence[Sequence[str]]) -> bytes:
    """A one-page PDF with a table drawn cell by cell; a cell may hold two lines."""
    document = pymupdf.open()  # type: ignore[no-untyped-call]
    page = document.new_page()
    widths = (220.0, 80.0, 100.0)
    top, height = 100.0, 32.0
    for r, row in enumerate(rows):
        x = 60.0
        for width, text in zip(widths, row, strict=True):
            cell = pymupdf.Rect(  # type: ignore[no-untyped-call]
                x, top + r * height, x + width, top + (r + 1) * height
            )
            page.draw_rect(cell, color=(0, 0, 0), width=0.8)
            page.insert_text((cell.x0 + 4, cell.y0 + 12), text, fontsize=10)
            x += width
    return bytes(document.tobytes())  # type: ignore[no-untyped-call]


_ITEMS = TypeAdapter(list[WorkItem])


def decoded(encoded: EncodedItems) -> list[WorkItem]:
    """A batch's items as a worker takes them from its chunk: validated as every chunk's
    items are, and named by the batch's ids in the same order."""
    items = _ITEMS.validate_json(encoded.items_json)
    assert [item.item_id for item in items] == list(encoded.item_ids)
    return items


def row_item(result: ProductRowResult, job_id: str, file_name: str | None) -> WorkItem:
    """A row's item as a worker takes it from its chunk, written by the document reader."""
    [item] = decoded(encoded_items([row_fields(result, job_id, file_name)]))
    return item
