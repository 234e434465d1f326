"""Opening a ZIP archive's directory safely: what sniffing an XLSX upload needs, and no more.

The entry count is read from the end record before the central directory is parsed,
so an archive claiming millions of entries is refused before `zipfile` builds a list
of them. The deeper zip-bomb checks (inflating every entry under caps) belong to the
XLSX reader in the ingestion service; they are not needed to tell what a file is.
"""

import struct
import zipfile
from typing import BinaryIO

from jobs_shared.documents.errors import DocumentError

MAX_ARCHIVE_ENTRIES = 10_000
"""Entries in an XLSX archive; a real workbook has a few dozen."""

DAMAGED = "This file looks like an XLSX workbook but it is damaged and cannot be opened."

_END_RECORD = b"PK\x05\x06"
_END_RECORD_SIZE = 22


def open_zip(f: BinaryIO) -> zipfile.ZipFile:
    """Open the archive's directory, once its end record says it is of a sane size."""
    entries = _declared_entries(f)
    if entries > MAX_ARCHIVE_ENTRIES:
        raise DocumentError(
            f"This file is an archive of {entries:,} or more entries; a workbook has a few "
            "dozen, so it is not a usable XLSX file."
        )
    f.seek(0)
    try:
        return zipfile.ZipFile(f)
    except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError, EOFError) as exc:
        raise DocumentError(DAMAGED) from exc


def _declared_entries(f: BinaryIO) -> int:
    f.seek(0, 2)
    size = f.tell()
    tail_size = min(size, _END_RECORD_SIZE + 0xFFFF)
    f.seek(size - tail_size)
    tail = f.read(tail_size)
    at = tail.rfind(_END_RECORD)
    if at < 0 or at + _END_RECORD_SIZE > len(tail):
        raise DocumentError(DAMAGED)
    (entries,) = struct.unpack_from("<H", tail, at + 10)
    return int(entries)
