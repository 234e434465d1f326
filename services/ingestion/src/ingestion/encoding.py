"""Which text encoding a CSV file uses, decided before a single row is handed on.

Rows are streamed to the worker, so the choice cannot change halfway: the whole
file is checked first, one chunk at a time. A byte-order mark decides at once;
otherwise UTF-8 if every byte is valid UTF-8, else Windows-1252 (what Excel on
Windows writes, a superset of Latin-1's printable range) if no valid UTF-8
letter came before the first bad byte. A file that mixes the two is damaged, and
we say on which line rather than guess. Statistical detectors were tried and
named cp1250 or Shift-JIS for short Western catalogs, so none is used.
"""

import codecs
from typing import BinaryIO

from jobs_shared.documents import DocumentError

_CHUNK = 1 << 20
_LEGACY = "cp1252"
_FIX = "Save the file as CSV UTF-8 and upload it again."
_NAMES = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16"}


def detect_encoding(f: BinaryIO) -> str:
    f.seek(0)
    declared = _declared_by_bom(f.read(3))
    if declared is not None:
        problem = _first_problem(f, declared)
        if problem is not None:
            raise DocumentError(
                f"Line {problem[0]:,} of the file is not valid {_NAMES[declared]} text, "
                f"although the file starts by saying it is. {_FIX}"
            )
        return declared
    problem = _first_problem(f, "utf-8")
    if problem is None:
        return "utf-8"
    line, after_valid_text = problem
    if after_valid_text:
        raise DocumentError(
            f"Line {line:,} of the file is not valid UTF-8 text, although the lines before "
            f"it are: the file may be damaged or mix two encodings. {_FIX}"
        )
    legacy_problem = _first_problem(f, _LEGACY)
    if legacy_problem is None:
        return _LEGACY
    raise DocumentError(
        f"Line {legacy_problem[0]:,} of the file contains bytes that are neither UTF-8 "
        f"nor Windows-1252 text. {_FIX}"
    )


def _declared_by_bom(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _first_problem(f: BinaryIO, encoding: str) -> tuple[int, bool] | None:
    """(line, non-ASCII text decoded before it) of the first undecodable byte, if any."""
    f.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    lines_before = 0
    seen_non_ascii = False
    while True:
        chunk = f.read(_CHUNK)
        try:
            decoded = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            good = exc.object[: exc.start].decode(encoding, errors="replace")
            return lines_before + good.count("\n") + 1, seen_non_ascii or not good.isascii()
        if not chunk:
            return None
        lines_before += decoded.count("\n")
        seen_non_ascii = seen_non_ascii or not decoded.isascii()
