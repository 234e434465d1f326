"""Zip-bomb and sparse-sheet checks that run before calamine reads an XLSX file.

calamine trusts the archive: it inflates whatever the entries hold, and it keeps
a sheet as a dense grid from A1 to the farthest cell, so a 2 KB file with one
value at XFD200000 asks for 100 GB and aborts the process (seen with
python-calamine 0.9). So we read the entry count from the end record before
parsing the central directory, check the sizes the directory declares, then
inflate every entry ourselves under hard caps, counting what really comes out
rather than what the headers claim, and note the farthest cell each sheet names.
Opening the directory itself (`open_zip`) lives in `jobs_shared.documents.archive`,
because sniffing a file at upload time needs it too.
"""

import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from ingestion.limits import (
    MAX_COLUMNS,
    MAX_COMPRESSION_RATIO,
    MAX_SHEET_CELLS,
    MAX_UNPACKED_BYTES,
    RATIO_EXEMPT_BYTES,
)
from jobs_shared.documents.archive import DAMAGED, open_zip
from jobs_shared.documents.errors import DocumentError

_CHUNK = 1 << 20
_LOCAL_HEADER = b"PK\x03\x04"
_LOCAL_HEADER_SIZE = 30
_CELL_REF = re.compile(rb'\sr="([A-Z]{1,3})([0-9]{1,7})"')  # <c r="B7">; rows are digits only
_REF_OVERLAP = 256

_BOMB = (
    "This XLSX file unpacks to {detail}, which is how files built to exhaust memory "
    "(zip bombs) look, so it was not opened. Save it again from your spreadsheet program "
    "or split it into smaller files."
)


def check_archive(f: BinaryIO) -> None:
    """Raise DocumentError unless every entry inflates within the limits."""
    with open_zip(f) as archive:
        entries = archive.infolist()
    declared = sum(entry.file_size for entry in entries)
    if declared > MAX_UNPACKED_BYTES:
        raise DocumentError(_BOMB.format(detail=f"{declared / (1 << 20):,.0f} MB"))
    unpacked = 0
    for entry in entries:
        _check_ratio(entry.file_size, entry.compress_size)
        size, cells = _inflate(f, entry)
        unpacked += size
        if size > entry.file_size or unpacked > MAX_UNPACKED_BYTES:
            raise DocumentError(DAMAGED + " Its contents are larger than its index says.")
        _check_grid(*cells)


def _check_ratio(unpacked: int, packed: int) -> None:
    if unpacked > RATIO_EXEMPT_BYTES and unpacked > MAX_COMPRESSION_RATIO * max(packed, 1):
        raise DocumentError(
            _BOMB.format(detail=f"{unpacked / max(packed, 1):,.0f} times its packed size")
        )


def _inflate(f: BinaryIO, entry: zipfile.ZipInfo) -> tuple[int, tuple[int, int]]:
    """Unpack one entry for nothing but its size and its farthest cell (row, column)."""
    size = rows = columns = 0
    carry = b""
    for chunk in _chunks(f, entry):
        size += len(chunk)
        if size > entry.file_size:
            break
        window = carry + chunk
        refs = _CELL_REF.findall(window)
        if refs:
            rows = max(rows, *(int(row) for _, row in refs))
            columns = max(columns, *(_column_number(letters) for letters in {c for c, _ in refs}))
        carry = window[-_REF_OVERLAP:]
    return size, (rows, columns)


def _chunks(f: BinaryIO, entry: zipfile.ZipInfo) -> Iterator[bytes]:
    if entry.header_offset < 0:
        raise DocumentError(DAMAGED)
    f.seek(entry.header_offset)
    header = f.read(_LOCAL_HEADER_SIZE)
    if len(header) < _LOCAL_HEADER_SIZE or not header.startswith(_LOCAL_HEADER):
        raise DocumentError(DAMAGED)
    name_size, extra_size = struct.unpack_from("<HH", header, 26)
    f.seek(entry.header_offset + _LOCAL_HEADER_SIZE + name_size + extra_size)
    if entry.compress_type == zipfile.ZIP_STORED:
        yield from _raw(f, entry.compress_size)
        return
    if entry.compress_type != zipfile.ZIP_DEFLATED:
        raise DocumentError(DAMAGED + " It uses a compression method Excel does not write.")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        for raw in _raw(f, entry.compress_size):
            data = raw
            while data:
                yield inflater.decompress(data, _CHUNK)
                data = inflater.unconsumed_tail
    except zlib.error as exc:
        raise DocumentError(DAMAGED) from exc


def _raw(f: BinaryIO, size: int) -> Iterator[bytes]:
    while size > 0:
        raw = f.read(min(size, _CHUNK))
        if not raw:
            raise DocumentError(DAMAGED)
        size -= len(raw)
        yield raw


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - ord("A") + 1
    return number


def _check_grid(rows: int, columns: int) -> None:
    if columns > MAX_COLUMNS:
        raise DocumentError(
            f"A sheet in this workbook reaches column {columns:,}; the limit is "
            f"{MAX_COLUMNS:,} columns. Delete the unused columns and upload it again."
        )
    if rows * columns > MAX_SHEET_CELLS:
        raise DocumentError(
            f"A sheet in this workbook spans {rows:,} rows by {columns:,} columns, more than "
            f"the limit of {MAX_SHEET_CELLS:,} cells. Split it into smaller files."
        )
