"""Query-parameter helpers the controllers share: the job list filters, ISO 8601 times and
opaque page cursors. The list filters are read here once for `GET /jobs` and for list
subscriptions on the WebSocket, so both accept and refuse exactly the same filters.

Cursors are keyset positions (the last row's sort key), base64url-encoded so clients
treat them as opaque: a page never skips or repeats a row when jobs are created
between two requests, which offset paging would.
"""

import base64
import binascii
from collections.abc import Iterable
from datetime import UTC, datetime

from gateway.errors import bad_parameter
from jobs_shared.contracts import JobStatus, JobType
from jobs_shared.store import JobCursor, JobQuery, ProductCursor
from jobs_shared.store.documents import iso

_SEPARATOR = "|"


def job_query(
    types: Iterable[JobType],
    statuses: Iterable[JobStatus],
    user: str | None,
    created_from: str | None,
    created_to: str | None,
) -> JobQuery:
    """The list filters as a `JobQuery`; a 400 names the filter at fault. An empty `user`
    means no user filter, as an absent one does."""
    start = parse_time("created_from", created_from)
    end = parse_time("created_to", created_to)
    if start and end and start > end:
        raise bad_parameter("created_from", "must not be after created_to")
    return JobQuery(
        types=frozenset(types),
        statuses=frozenset(statuses),
        user_email=user or None,
        created_from=start,
        created_to=end,
    )


def parse_time(name: str, text: str | None) -> datetime | None:
    """Query parameter `name` as an ISO 8601 time: a date alone means its midnight, and a
    time without an offset is UTC (the API speaks UTC only)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise bad_parameter(name, f"{text!r} is not an ISO 8601 date or time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def encode_job_cursor(position: JobCursor) -> str:
    return _encode(f"{iso(position.created_at)}{_SEPARATOR}{position.job_id}")


def decode_job_cursor(cursor: str) -> JobCursor:
    created_at, _, job_id = _decode(cursor).partition(_SEPARATOR)
    try:
        moment = datetime.fromisoformat(created_at)
    except ValueError:
        raise _bad_cursor() from None
    if not job_id or moment.tzinfo is None:
        raise _bad_cursor()
    return JobCursor(created_at=moment, job_id=job_id)


def encode_product_cursor(position: ProductCursor) -> str:
    return encode_job_cursor(JobCursor(position.created_at, position.product_id))


def decode_product_cursor(cursor: str) -> ProductCursor:
    """Products page newest first by (created_at, id), exactly as jobs do."""
    position = decode_job_cursor(cursor)
    return ProductCursor(position.created_at, position.job_id)


def encode_item_cursor(item_id: str) -> str:
    return _encode(item_id)


def decode_item_cursor(cursor: str) -> str:
    item_id = _decode(cursor)
    if not item_id:
        raise _bad_cursor()
    return item_id


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return raw.decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad_cursor() from None


def _bad_cursor() -> Exception:
    return bad_parameter("cursor", "not a cursor this API returned")
