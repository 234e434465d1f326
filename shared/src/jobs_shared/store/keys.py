"""Key batching both adapters use, so a load of thousands of keys stays a few bounded queries."""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

from jobs_shared.domain.state import ItemKey

KEYS_PER_QUERY = 500
"""Far below SQLite's bound-parameter limit and MongoDB's document size limit."""

T = TypeVar("T")


def chunks(values: Iterable[T], size: int = KEYS_PER_QUERY) -> Iterator[tuple[T, ...]]:
    iterator = iter(values)
    while chunk := tuple(islice(iterator, size)):
        yield chunk


def item_ids_by_job(keys: Iterable[ItemKey]) -> dict[str, list[str]]:
    """Item ids grouped by job: every item query is scoped to one job, the key's prefix."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for job_id, item_id in keys:
        grouped[job_id].append(item_id)
    return grouped
