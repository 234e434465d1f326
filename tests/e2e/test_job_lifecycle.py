"""One job's whole life through the real path: a submit on `jobs.commands`, a worker's
events on `jobs.events`, the tracker folding them into SQLite, and the REST API reading
the job back with the right status and counters at every step."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jobs_shared.contracts import (
    ItemOutcome,
    ItemOutcomes,
    ItemStatus,
    JobStarted,
    JobType,
    SubmitJob,
)
from jobs_shared.contracts.events import ItemError, ReportedItemStatus
from jobs_shared.errors import GUIDANCE, ErrorCategory
from tests.support.gateway import Client, gateway_client
from tests.support.tracker import TrackerEnv, running_tracker, tracker_env, wait_until

JOB_ID = "e2e-enrichment-1"
TENANT = "acme"
ENRICH = JobType.ENRICHMENT
START = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
async def env(amqp_url: str, tmp_path: Path) -> AsyncIterator[TrackerEnv]:
    async with tracker_env(amqp_url, tmp_path) as env, running_tracker(amqp_url, env.store_url):
        yield env


def _outcome(
    n: int, status: ReportedItemStatus, category: ErrorCategory | None = None
) -> ItemOutcome:
    return ItemOutcome(
        item_id=f"product-{n:02d}",
        label=f"Product {n}",
        status=status,
        at=START + timedelta(seconds=n),
        error=ItemError(category=category, message=f"product {n}: {category}")
        if category
        else None,
        result={"enriched": n} if status == ItemStatus.SUCCEEDED else None,
    )


def _batch(*outcomes: ItemOutcome) -> ItemOutcomes:
    return ItemOutcomes(job_id=JOB_ID, tenant=TENANT, job_type=ENRICH, outcomes=list(outcomes))


async def _job_when(client: Client, what: str, **expected: Any) -> dict[str, Any]:
    """The job as the API shows it, once every `expected` field has the expected value."""
    seen: dict[str, Any] = {}

    async def shows() -> bool:
        response = await client.get(f"/api/v1/jobs/{JOB_ID}")
        if response.status_code != 200:
            return False
        seen.clear()
        seen.update(response.json())
        return all(seen[field] == value for field, value in expected.items())

    await wait_until(shows, what, within=15)
    return seen


async def test_a_job_moves_from_submit_to_partial_success_through_rabbitmq(
    env: TrackerEnv,
) -> None:
    async with gateway_client(env.store, tenant=TENANT) as client:
        await env.bus.submit(
            ENRICH,
            SubmitJob(
                job_id=JOB_ID,
                tenant=TENANT,
                user_email="alice@acme.test",
                params={"product_ids": [f"p{n}" for n in range(1, 11)]},
                submitted_at=START,
            ),
        )
        job = await _job_when(client, "the job exists", status="pending")
        assert (job["total_items"], job["processed_items"], job["progress_pct"]) == (0, 0, 0.0)
        assert job["user_email"] == "alice@acme.test"
        assert job["params"]["product_ids"][0] == "p1"

        await env.bus.publish_event(
            JobStarted(job_id=JOB_ID, tenant=TENANT, job_type=ENRICH, total_items=10, at=START)
        )
        await _job_when(client, "the job started", status="in_progress", total_items=10)

        await env.bus.publish_event(_batch(*(_outcome(n, ItemStatus.IN_PROGRESS) for n in (1, 2))))
        first_results = _batch(
            _outcome(1, ItemStatus.SUCCEEDED),
            _outcome(2, ItemStatus.SUCCEEDED),
            _outcome(3, ItemStatus.SUCCEEDED),
            _outcome(4, ItemStatus.FAILED, ErrorCategory.URL_UNREACHABLE),
        )
        await env.bus.publish_event(first_results)
        job = await _job_when(client, "four items ended", processed_items=3, failed_items=1)
        assert (job["status"], job["progress_pct"], job["success_rate"]) == (
            "in_progress",
            40.0,
            75.0,
        )
        assert job["error_counts"] == {"url_unreachable": 1}

        await env.bus.publish_event(first_results)  # a redelivery changes nothing
        await env.bus.publish_event(
            _batch(
                *(_outcome(n, ItemStatus.SUCCEEDED) for n in (5, 6, 7, 8)),
                _outcome(9, ItemStatus.FAILED, ErrorCategory.TIMEOUT),
                _outcome(10, ItemStatus.FAILED, ErrorCategory.VALIDATION_ERROR),
            )
        )
        job = await _job_when(client, "the job ended", status="partial_success")

        assert {k: job[k] for k in ("processed_items", "failed_items", "skipped_items")} == {
            "processed_items": 7,
            "failed_items": 3,
            "skipped_items": 0,
        }
        assert (job["progress_pct"], job["success_rate"], job["eta_seconds"]) == (100.0, 70.0, None)
        assert job["error_counts"] == {"url_unreachable": 1, "timeout": 1, "validation_error": 1}
        assert job["duration_seconds"] == 10.0  # the last item ended 10 s after the start
        assert job["items_per_minute"] == 60.0

        errors = (await client.get(f"/api/v1/jobs/{JOB_ID}/errors")).json()
        groups = {g["category"]: g for g in errors["groups"]}
        assert set(groups) == {"url_unreachable", "timeout", "validation_error"}
        assert groups["timeout"]["fix"] == GUIDANCE[ErrorCategory.TIMEOUT].fix
        assert groups["timeout"]["examples"][0]["label"] == "Product 9"

        failed = (await client.get(f"/api/v1/jobs/{JOB_ID}/items?status=failed")).json()
        assert [i["item_id"] for i in failed["items"]] == ["product-04", "product-09", "product-10"]

        listed = (await client.get("/api/v1/jobs?status=partial_success")).json()
        assert [j["id"] for j in listed["jobs"]] == [JOB_ID]

    async with gateway_client(env.store, tenant="globex") as other_tenant:
        assert (await other_tenant.get(f"/api/v1/jobs/{JOB_ID}")).status_code == 404
