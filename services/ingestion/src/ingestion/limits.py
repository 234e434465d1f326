"""Hard limits on what one uploaded file may make the parser hold in memory.

A worker reads many uploads side by side, so no file may decide how much memory
it gets: each limit below turns a hostile or broken file into a clear message
instead of an exhausted machine. README.md lists them for merchants.
"""

MAX_COLUMNS = 1_000
"""Columns in a header or a row (CSV and XLSX); real catalogs use under 100."""

MAX_LINE_CHARS = 1 << 20
"""Characters in one physical line of a CSV file (1 MiB)."""

MAX_RECORD_CHARS = 4 << 20
"""Characters in one CSV record, which quoted line breaks may spread over lines."""

MAX_UNPACKED_BYTES = 200 << 20
"""Bytes an XLSX archive may unpack to, all entries together (200 MiB)."""

MAX_COMPRESSION_RATIO = 100
"""How much one large XLSX entry may shrink when zipped; real sheets stay under 20:1."""

RATIO_EXEMPT_BYTES = 1 << 20
"""Entries that unpack to less than this are too small to matter as a bomb."""

MAX_SHEET_CELLS = 10_000_000
"""Cells in the grid from A1 to a sheet's farthest cell: calamine allocates them all."""
