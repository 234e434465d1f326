"""`iso`, the one text form of times in stored documents (its text order is time order),
and the item documents the SQLite store writes with it."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import orjson
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import AwareDatetime, TypeAdapter

from jobs_shared.contracts import ItemStatus
from jobs_shared.domain.state import ItemState
from jobs_shared.errors import ErrorCategory
from jobs_shared.store.documents import iso, item_doc_json, item_from_doc, item_to_doc


def reference(moment: datetime) -> str:
    """The definition `iso` is held to (what it was before orjson wrote it)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


offsets = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60, 23 * 60)
)
zones = st.one_of(
    st.just(UTC), offsets, st.sampled_from([ZoneInfo("Europe/London"), ZoneInfo("Asia/Kolkata")])
)
aware = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=zones)


@given(aware)
def test_iso_is_the_isoformat_of_the_utc_time_with_microseconds(moment: datetime) -> None:
    assert iso(moment) == reference(moment)


@given(aware, aware)
def test_iso_text_order_is_time_order(a: datetime, b: datetime) -> None:
    assert (iso(a) < iso(b)) == (a < b)


def test_iso_writes_a_zero_fraction() -> None:
    assert iso(datetime(2030, 1, 1, tzinfo=UTC)) == "2030-01-01T00:00:00.000000+00:00"
    assert iso(datetime(2030, 1, 1, 0, 0, 0, 5000, tzinfo=UTC)) == (
        "2030-01-01T00:00:00.005000+00:00"
    )


def test_iso_of_pydantic_times_and_other_offsets() -> None:
    parsed = TypeAdapter(AwareDatetime).validate_python("2030-01-01T02:00:00+02:00")
    assert iso(parsed) == "2030-01-01T00:00:00.000000+00:00"
    utc = TypeAdapter(AwareDatetime).validate_python("2030-01-01T00:00:00.000001Z")
    assert iso(utc) == "2030-01-01T00:00:00.000001+00:00"


def test_iso_of_a_naive_time_reads_it_as_local_time() -> None:
    naive = datetime(2030, 6, 1, 12, 30, 15, 7)
    assert iso(naive) == reference(naive)


times = st.one_of(aware, st.just(datetime(2030, 1, 1, 0, 0, 0, 1, tzinfo=UTC)))
items = st.builds(
    ItemState,
    job_id=st.text(min_size=1, max_size=8),
    item_id=st.text(min_size=1, max_size=8),
    status=st.sampled_from(ItemStatus),
    outcome_at=times,
    label=st.text(max_size=8),
    attempts=st.integers(1, 5),
    started_at=st.none() | times,
    finished_at=st.none() | times,
    error_category=st.none() | st.sampled_from(ErrorCategory),
    error_message=st.none() | st.text(max_size=8),
    result=st.none()
    | st.dictionaries(st.text(max_size=4), st.integers(-(2**63), 2**63 - 1) | st.text(max_size=4)),
    outcome_attempt=st.integers(1, 5),
)


@given(items)
@example(  # 01:00 in London on 23 October 1983 happened twice: the clocks went back
    ItemState(
        job_id="0",
        item_id="0",
        status=ItemStatus.PENDING,
        outcome_at=datetime(2030, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        finished_at=datetime(1983, 10, 23, 1, 0, tzinfo=ZoneInfo("Europe/London")),
    )
)
def test_item_doc_json_is_the_json_of_item_to_doc(item: ItemState) -> None:
    assert item_doc_json(item) == orjson.dumps(item_to_doc(item)).decode()
    assert item_from_doc(orjson.loads(item_doc_json(item))) == _in_utc(item)


def _in_utc(item: ItemState) -> ItemState:
    """`item` with its times in UTC, as a document holds them. Comparing them as they are
    would not do: Python says an ambiguous local time (the hour a clock turns back) is
    never equal to a time in another zone, even at the same instant (PEP 495)."""
    return replace(
        item,
        outcome_at=item.outcome_at.astimezone(UTC),
        started_at=item.started_at and item.started_at.astimezone(UTC),
        finished_at=item.finished_at and item.finished_at.astimezone(UTC),
    )
