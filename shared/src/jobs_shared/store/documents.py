"""One mapping between domain state and stored documents, shared by both adapters.

Documents hold only JSON types. Times are ISO 8601 UTC strings with microseconds,
so their text order is their time order and both stores can range-filter them.
"""

from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic_core import TzInfo

from jobs_shared.contracts import ItemStatus, JobStatus, JobType
from jobs_shared.domain.state import ItemState, JobState
from jobs_shared.errors import ErrorCategory

Document = dict[str, Any]


_UTC_ZONES = frozenset({UTC, TzInfo(0)})
"""UTC as the standard library writes it, and as pydantic does (every time in a message).
Asking a time's tzinfo for its offset would cost 0.3 µs, three times per item."""
_UTC_OFFSET = "+00:00"
_NO_MICROSECONDS = ".000000" + _UTC_OFFSET


def iso(moment: datetime) -> str:
    """`moment` in UTC as `2030-01-01T00:00:00.000000+00:00`, microseconds always written.

    The same text as `moment.astimezone(UTC).isoformat(timespec="microseconds")` (a naive
    `moment` is local time), written by orjson at half the cost: the tracker writes three
    per item. orjson leaves out a zero fraction, so it is put back.
    """
    offset = moment.utcoffset()
    if offset is None or offset:
        moment = moment.astimezone(UTC)
    if moment.microsecond:
        return orjson.dumps(moment)[1:-1].decode()
    return orjson.dumps(moment)[1:-7].decode() + _NO_MICROSECONDS


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def job_to_doc(job: JobState) -> Document:
    return {
        "id": job.id,
        "type": job.type.value,
        "tenant": job.tenant,
        "status": job.status.value,
        "submitted": job.submitted,
        "user_email": job.user_email,
        "user_id": job.user_id,
        "params": job.params,
        "metadata": job.metadata,
        "retry_of": job.retry_of,
        "retried_by": job.retried_by,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "started_at": _iso_or_none(job.started_at),
        "finished_at": _iso_or_none(job.finished_at),
        "cancel_requested_at": _iso_or_none(job.cancel_requested_at),
        "total_items": job.total_items,
        "total_final": job.total_final,
        "processed_items": job.processed_items,
        "failed_items": job.failed_items,
        "skipped_items": job.skipped_items,
        "error": job.error,
        "error_category": job.error_category.value if job.error_category else None,
        "error_counts": {c.value: n for c, n in job.error_counts.items()},
        "recent_ends": {str(b): n for b, n in job.recent_ends.items()},
        "last_item_at": _iso_or_none(job.last_item_at),
    }


def job_from_doc(doc: Document) -> JobState:
    category = doc.get("error_category")
    return JobState(
        id=doc["id"],
        type=JobType(doc["type"]),
        tenant=doc["tenant"],
        status=JobStatus(doc["status"]),
        submitted=doc["submitted"],
        user_email=doc["user_email"],
        user_id=doc.get("user_id"),
        params=doc.get("params") or {},
        metadata=doc.get("metadata") or {},
        retry_of=doc.get("retry_of"),
        retried_by=doc.get("retried_by") or [],
        created_at=datetime.fromisoformat(doc["created_at"]),
        updated_at=datetime.fromisoformat(doc["updated_at"]),
        started_at=_time(doc.get("started_at")),
        finished_at=_time(doc.get("finished_at")),
        cancel_requested_at=_time(doc.get("cancel_requested_at")),
        total_items=doc["total_items"],
        total_final=doc["total_final"],
        processed_items=doc["processed_items"],
        failed_items=doc["failed_items"],
        skipped_items=doc["skipped_items"],
        error=doc.get("error"),
        error_category=ErrorCategory(category) if category else None,
        error_counts={ErrorCategory(c): n for c, n in (doc.get("error_counts") or {}).items()},
        recent_ends={int(b): n for b, n in (doc.get("recent_ends") or {}).items()},
        last_item_at=_time(doc.get("last_item_at")),
    )


def item_to_doc(item: ItemState) -> Document:
    return {
        "job_id": item.job_id,
        "item_id": item.item_id,
        "status": item.status.value,
        "label": item.label,
        "attempts": item.attempts,
        "started_at": _iso_or_none(item.started_at),
        "finished_at": _iso_or_none(item.finished_at),
        "error_category": item.error_category.value if item.error_category else None,
        "error_message": item.error_message,
        "result": item.result,
        "outcome_attempt": item.outcome_attempt,
        "outcome_at": iso(item.outcome_at),
    }


def item_doc_json(item: ItemState) -> str:
    """`item_to_doc(item)` as JSON text: the same text as `orjson.dumps` of it, faster.

    The tracker writes one per item. When every time of the item is in UTC with a
    non-zero fraction (nearly always), orjson writes the times and enums itself, which
    is exactly what `iso` and `.value` would give; otherwise the document is built first.
    """
    started, finished, at = item.started_at, item.finished_at, item.outcome_at
    if not (
        _writes_as_iso(at)
        and (started is None or _writes_as_iso(started))
        and (finished is None or _writes_as_iso(finished))
    ):
        return orjson.dumps(item_to_doc(item)).decode()
    return orjson.dumps(
        {
            "job_id": item.job_id,
            "item_id": item.item_id,
            "status": item.status,
            "label": item.label,
            "attempts": item.attempts,
            "started_at": started,
            "finished_at": finished,
            "error_category": item.error_category,
            "error_message": item.error_message,
            "result": item.result,
            "outcome_attempt": item.outcome_attempt,
            "outcome_at": at,
        }
    ).decode()


def _writes_as_iso(moment: datetime) -> bool:
    """Whether orjson writes `moment` as `iso` does: in UTC, with a non-zero fraction.

    A time in another tzinfo whose offset is zero is not recognised: it is written the
    slower way, to the same text.
    """
    return bool(moment.microsecond) and moment.tzinfo in _UTC_ZONES


def item_from_doc(doc: Document) -> ItemState:
    category = doc.get("error_category")
    return ItemState(
        job_id=doc["job_id"],
        item_id=doc["item_id"],
        status=ItemStatus(doc["status"]),
        outcome_at=datetime.fromisoformat(doc["outcome_at"]),
        label=doc.get("label") or "",
        attempts=doc["attempts"],
        started_at=_time(doc.get("started_at")),
        finished_at=_time(doc.get("finished_at")),
        error_category=ErrorCategory(category) if category else None,
        error_message=doc.get("error_message"),
        result=doc.get("result"),
        outcome_attempt=doc["outcome_attempt"],
    )
