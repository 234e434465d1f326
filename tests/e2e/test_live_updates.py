"""Watching a job live, the whole way: a browser-like client starts a job over REST, sees it
appear in its live list, follows its progress as a worker reports, cancels it over REST and
sees the cancel arrive, with no polling anywhere.

Everything runs as in production but in one process: the gateway under uvicorn (its own
broker, store and live feed from settings), the tracker consuming its inbox, RabbitMQ on
the session's vhost, one SQLite file; the test plays the worker on `jobs.events`.
"""

import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from jobs_shared.contracts import JobType
from tests.support.gateway import bearer, token
from tests.support.live import LiveClient, Message, serving_gateway
from tests.support.tracker import outcomes, running_tracker, started, tracker_env

pytestmark = pytest.mark.rabbitmq


def update_of(subscription: str, **fields: object) -> Callable[[Message], bool]:
    """An update of `subscription` whose Job has these `fields`."""

    def holds(message: Message) -> bool:
        return (
            message["op"] == "update"
            and message["subscription"] == subscription
            and all(message["job"][name] == value for name, value in fields.items())
        )

    return holds


async def test_a_job_started_over_rest_is_followed_live_until_its_cancel(
    amqp_url: str, tmp_path: Path
) -> None:
    email = f"watcher-{uuid.uuid4().hex[:8]}@acme.test"
    async with (
        tracker_env(amqp_url, tmp_path) as env,
        running_tracker(amqp_url, env.store_url),
        serving_gateway(amqp_url, env.store_url, tmp_path) as gateway,
        httpx.AsyncClient(
            base_url=gateway.origin, headers=bearer(token(email=email)), timeout=30
        ) as http,
        LiveClient.connect(gateway) as client,
    ):
        mine = await client.subscribe("mine", jobs={"user": email, "type": ["enrichment"]})
        assert mine["jobs"] == []

        started_job = await http.post(
            "/api/v1/jobs", json={"type": "enrichment", "params": {"product_ids": ["p1", "p2"]}}
        )
        assert started_job.status_code == 202, started_job.text
        job_id = started_job.json()["id"]
        appeared = await client.wait_for(
            "the new job in the list", update_of(mine["subscription"], status="pending")
        )
        assert (appeared["job"]["id"], appeared["matches"]) == (job_id, True)

        watched = await client.subscribe("job", job_id=job_id)
        await env.bus.publish_event(started(job_id, 4, JobType.ENRICHMENT))
        await env.bus.publish_event(outcomes(job_id, [0]))
        progress = await client.wait_for(
            "progress", update_of(watched["subscription"], processed_items=1)
        )
        assert progress["job"]["status"] == "in_progress"
        assert progress["job"]["progress_pct"] == 25.0

        cancelled = await http.post(f"/api/v1/jobs/{job_id}/cancel")
        assert cancelled.status_code == 202, cancelled.text
        final = await client.wait_for(
            "the cancel", update_of(watched["subscription"], status="cancelled")
        )
        in_list = await client.wait_for(
            "the cancel in the list", update_of(mine["subscription"], status="cancelled")
        )

    assert final["job"]["processed_items"] == 1  # what was done is kept
    assert in_list["job"] == final["job"]
    for subscription in (mine["subscription"], watched["subscription"]):
        seqs = [m["seq"] for m in client.updates(subscription)]
        assert seqs == list(range(1, len(seqs) + 1))
