"""What a file really is, judged by its content and never by its name.

Merchants rename files, and browsers send whatever type the name suggests, so a
PNG called products.csv must be named as a PNG, and an XLSX called data.csv must
still be read as a workbook. Only the first bytes, and for a ZIP archive its
directory, are looked at here.
"""

from enum import StrEnum
from pathlib import PurePath
from typing import BinaryIO

from jobs_shared.documents.archive import open_zip
from jobs_shared.documents.errors import DocumentError


class Kind(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"


_HEAD_BYTES = 64 * 1024
_PDF_MAGIC = b"%PDF-"
_PDF_MAGIC_WITHIN = 1024
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an Excel 97-2003 workbook (.xls) or a password-protected Office file",
    ),
    (b"\x1f\x8b", "a GZIP archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"{\\rtf", "an RTF document"),
    (b"%!PS", "a PostScript file"),
)
_TEXT_SIGNATURES: tuple[tuple[tuple[bytes, ...], str], ...] = (
    ((b"<?xml", b"<!doctype", b"<html", b"<rss", b"<feed"), "an XML or HTML document"),
    ((b"{",), "a JSON document"),
)
_ZIP_CONTENTS: tuple[tuple[str, str], ...] = (
    ("xl/workbook.bin", "an Excel binary workbook (.xlsb)"),
    ("word/document.xml", "a Word document"),
    ("ppt/presentation.xml", "a PowerPoint presentation"),
    ("content.xml", "an OpenDocument file (.ods or .odt)"),
)


def sniff(f: BinaryIO, filename_hint: str | None) -> Kind:
    """The kind of the file; DocumentError for anything we cannot read."""
    f.seek(0)
    head = f.read(_HEAD_BYTES)
    if not head:
        raise DocumentError("The file is empty.")
    if _PDF_MAGIC in head[:_PDF_MAGIC_WITHIN]:
        return Kind.PDF
    if head.startswith(_ZIP_MAGICS):
        return _sniff_zip(f, filename_hint)
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            raise _not_supported(what, filename_hint)
    if head.startswith(_BOMS):
        return Kind.CSV
    if b"\x00" in head:
        raise _not_supported("binary data", filename_hint)
    start = head.lstrip().lower()
    for prefixes, what in _TEXT_SIGNATURES:
        if start.startswith(prefixes):
            raise _not_supported(what, filename_hint)
    return Kind.CSV


def _sniff_zip(f: BinaryIO, filename_hint: str | None) -> Kind:
    with open_zip(f) as archive:
        names = set(archive.namelist())
    if "xl/workbook.xml" in names:
        return Kind.XLSX
    for name, what in _ZIP_CONTENTS:
        if name in names:
            raise _not_supported(what, filename_hint)
    raise _not_supported("a ZIP archive", filename_hint)


def _not_supported(what: str, filename_hint: str | None) -> DocumentError:
    suffix = PurePath(filename_hint).suffix if filename_hint else ""
    named = f", even though its name ends in {suffix}" if suffix else ""
    return DocumentError(f"This file is {what}, not a CSV, XLSX or PDF file{named}.")
