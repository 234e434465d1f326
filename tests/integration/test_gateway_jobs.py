"""`/api/v1/jobs`, `/jobs/{id}`, `/items`, `/errors` over the real SQLite store (happy paths,
filters, cursor paging)."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from jobs_shared.errors import GUIDANCE, ErrorCategory
from jobs_shared.store import JobStore
from tests.support.gateway import Client, gateway_client, seed_scenario


@pytest.fixture
async def client(sqlite_store: JobStore) -> AsyncIterator[Client]:
    await seed_scenario(sqlite_store)
    async with gateway_client(sqlite_store) as client:
        yield client


async def _ok(client: Client, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _ids(page: dict[str, Any]) -> list[str]:
    if "jobs" in page:
        return [job["id"] for job in page["jobs"]]
    return [item["item_id"] for item in page["items"]]


async def test_a_finished_job_reads_with_every_public_field(client: Client) -> None:
    assert await _ok(client, "/api/v1/jobs/job-a") == {
        "id": "job-a",
        "type": "enrichment",
        "status": "partial_success",
        "tenant": "acme",
        "user_email": "alice@acme.test",
        "created_at": "2025-03-01T10:00:00Z",
        "started_at": "2025-03-01T10:00:10Z",
        "finished_at": "2025-03-01T10:01:10Z",
        "updated_at": "2025-03-06T00:00:00Z",
        "total_items": 8,
        "processed_items": 2,
        "failed_items": 6,
        "skipped_items": 0,
        "progress_pct": 100.0,
        "success_rate": 25.0,
        "items_per_minute": 8.0,
        "eta_seconds": None,
        "duration_seconds": 60.0,
        "error": None,
        "error_counts": {"url_unreachable": 5, "timeout": 1},
        "params": {"product_ids": ["p1"]},
        "metadata": {},
        "retry_of": None,
        "cancel_requested_at": None,
        "retried_by": [],
    }


async def test_pending_and_running_jobs_read_as_they_stand(client: Client) -> None:
    pending = await _ok(client, "/api/v1/jobs/job-d")
    running = await _ok(client, "/api/v1/jobs/job-e")

    assert (pending["status"], pending["started_at"], pending["duration_seconds"]) == (
        "pending",
        None,
        None,
    )
    assert pending["params"] == {"format": "csv"}
    assert running["status"] == "in_progress"
    assert (running["processed_items"], running["total_items"], running["progress_pct"]) == (
        1,
        10,
        10.0,
    )
    assert running["finished_at"] is None
    assert running["duration_seconds"] > 0


async def test_the_list_is_newest_first(client: Client) -> None:
    page = await _ok(client, "/api/v1/jobs")

    assert _ids(page) == ["job-e", "job-d", "job-c", "job-b", "job-a"]
    assert page["next_cursor"] is None
    assert page["jobs"][4] == await _ok(client, "/api/v1/jobs/job-a")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "enrichment"}, ["job-e", "job-a"]),
        ({"type": ["enrichment", "crawl"]}, ["job-e", "job-b", "job-a"]),
        ({"status": "partial_success"}, ["job-a"]),
        ({"status": ["pending", "failed", "completed"]}, ["job-d", "job-c", "job-b"]),
        ({"user": "bob@acme.test"}, ["job-d", "job-b"]),
        ({"user": "nobody@acme.test"}, []),
        (
            {"created_from": "2025-03-02T00:00:00Z", "created_to": "2025-03-04T00:00:00Z"},
            ["job-c", "job-b"],
        ),
        ({"created_from": "2025-03-02", "created_to": "2025-03-04"}, ["job-c", "job-b"]),
        ({"created_from": "2025-03-02T01:00:00+01:00"}, ["job-e", "job-d", "job-c", "job-b"]),
        ({"created_to": "2025-03-02T09:00:00Z"}, ["job-a"]),
        ({"type": "enrichment", "user": "alice@acme.test", "status": "in_progress"}, ["job-e"]),
    ],
)
async def test_filters(client: Client, params: dict[str, Any], expected: list[str]) -> None:
    assert _ids(await _ok(client, "/api/v1/jobs", **params)) == expected


@pytest.mark.parametrize(
    ("params", "pages"),
    [
        ({"limit": 2}, [["job-e", "job-d"], ["job-c", "job-b"], ["job-a"]]),
        ({"limit": 5}, [["job-e", "job-d", "job-c", "job-b", "job-a"]]),
        ({"limit": 1, "type": "enrichment"}, [["job-e"], ["job-a"]]),
        ({"limit": 1, "created_to": "2025-03-03T00:00:00Z"}, [["job-b"], ["job-a"]]),
    ],
)
async def test_cursor_paging_walks_every_job_once(
    client: Client, params: dict[str, Any], pages: list[list[str]]
) -> None:
    seen: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = await _ok(client, "/api/v1/jobs", **params, **({"cursor": cursor} if cursor else {}))
        seen.append(_ids(page))
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == pages


async def test_items_are_listed_by_id_with_their_errors(client: Client) -> None:
    page = await _ok(client, "/api/v1/jobs/job-a/items", limit=3)

    assert page["items"][0] == {
        "item_id": "a1",
        "label": "Item a1",
        "status": "succeeded",
        "error": None,
        "attempts": 1,
        "started_at": "2025-03-01T10:00:15Z",
        "finished_at": "2025-03-01T10:00:20Z",
        "result": {"ok": "a1"},
    }
    assert page["items"][2]["error"] == {
        "category": "url_unreachable",
        "message": "a3: url_unreachable",
    }
    assert _ids(page) == ["a1", "a2", "a3"]

    second = await _ok(client, "/api/v1/jobs/job-a/items", limit=3, cursor=page["next_cursor"])
    third = await _ok(client, "/api/v1/jobs/job-a/items", limit=3, cursor=second["next_cursor"])
    assert _ids(second) == ["a4", "a5", "a6"]
    assert (_ids(third), third["next_cursor"]) == (["a7", "a8"], None)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["succeeded"], ["a1", "a2"]),
        (["failed"], ["a3", "a4", "a5", "a6", "a7", "a8"]),
        (["succeeded", "failed"], ["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"]),
        (["skipped"], []),
    ],
)
async def test_items_filter_by_status(
    client: Client, statuses: list[str], expected: list[str]
) -> None:
    page = await _ok(client, "/api/v1/jobs/job-a/items", status=statuses)
    assert (_ids(page), page["next_cursor"]) == (expected, None)


async def test_items_filtered_and_paged(client: Client) -> None:
    first = await _ok(client, "/api/v1/jobs/job-a/items", status="failed", limit=4)
    rest = await _ok(
        client, "/api/v1/jobs/job-a/items", status="failed", limit=4, cursor=first["next_cursor"]
    )
    assert _ids(first) == ["a3", "a4", "a5", "a6"]
    assert (_ids(rest), rest["next_cursor"]) == (["a7", "a8"], None)


async def test_errors_are_grouped_most_frequent_first_with_cause_fix_and_three_examples(
    client: Client,
) -> None:
    errors = await _ok(client, "/api/v1/jobs/job-a/errors")
    items = {
        item["item_id"]: item for item in (await _ok(client, "/api/v1/jobs/job-a/items"))["items"]
    }

    url, timeout = GUIDANCE[ErrorCategory.URL_UNREACHABLE], GUIDANCE[ErrorCategory.TIMEOUT]
    assert errors == {
        "job_error": None,
        "job_error_guidance": None,
        "groups": [
            {
                "category": "url_unreachable",
                "count": 5,
                "cause": url.cause,
                "fix": url.fix,
                "examples": [items["a3"], items["a4"], items["a5"]],
            },
            {
                "category": "timeout",
                "count": 1,
                "cause": timeout.cause,
                "fix": timeout.fix,
                "examples": [items["a8"]],
            },
        ],
    }


async def test_a_job_level_error_comes_with_its_cause_and_fix(client: Client) -> None:
    errors = await _ok(client, "/api/v1/jobs/job-c/errors")
    parse = GUIDANCE[ErrorCategory.PARSE_ERROR]

    assert errors == {
        "job_error": "Cannot read the file.",
        "job_error_guidance": {"category": "parse_error", "cause": parse.cause, "fix": parse.fix},
        "groups": [],
    }


async def test_a_job_without_errors_has_none(client: Client) -> None:
    assert await _ok(client, "/api/v1/jobs/job-b/errors") == {
        "job_error": None,
        "job_error_guidance": None,
        "groups": [],
    }


@pytest.mark.parametrize(
    "path", ["/api/v1/jobs/nope", "/api/v1/jobs/nope/items", "/api/v1/jobs/nope/errors"]
)
async def test_an_unknown_job_is_404(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "No job 'nope'."}}
