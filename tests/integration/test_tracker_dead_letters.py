"""Messages the tracker cannot use land in `job-tracker.inbox.dlq`, saying why; it goes on."""

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from unittest.mock import patch

import pytest

from jobs_shared.contracts import CancelJob, JobStatus, JobType, TrackerMessage
from jobs_shared.dead_letters import ORIGINAL_EXCHANGE_HEADER, ORIGINAL_ROUTING_KEY_HEADER
from jobs_shared.domain import fold
from jobs_shared.domain.fold import FoldResult
from jobs_shared.domain.state import ItemKey, ItemState, JobState
from jobs_shared.topology import COMMANDS, ERROR_HEADER, EVENTS, TRACKER_INBOX
from tests.support.tracker import (
    T0,
    outcomes,
    running_tracker,
    started,
    submit_command,
    tracker_env,
)

pytestmark = pytest.mark.rabbitmq

DLQ = TRACKER_INBOX.dead_letter_name
FAILED_WITHOUT_ERROR = (
    b'{"job_id": "j", "tenant": "acme", "job_type": "crawl", "outcomes": '
    b'[{"item_id": "i", "status": "failed", "at": "2030-01-01T00:00:00Z"}]}'
)
CANCEL_OF_ANOTHER_TYPE = CancelJob(
    job_id="j", tenant="acme", job_type=JobType.EXPORT, requested_by="ops@acme.test", at=T0
)


@pytest.mark.parametrize(
    ("exchange", "routing_key", "body", "reason"),
    [
        pytest.param(EVENTS.name, "items.outcomes", b"{not json", "Invalid JSON", id="bad-json"),
        pytest.param(
            EVENTS.name,
            "items.outcomes",
            FAILED_WITHOUT_ERROR,
            "outcomes.0: Value error, a failed item outcome needs an error",
            id="schema-violation",
        ),
        pytest.param(
            COMMANDS.name,
            "crawl.submit",
            b'{"tenant": "acme"}',
            "invalid SubmitJob: user_email: Field required",
            id="missing-field",
        ),
        pytest.param(
            COMMANDS.name,
            "crawl.cancel",
            CANCEL_OF_ANOTHER_TYPE.model_dump_json().encode(),
            "cancel for a export job sent with key 'crawl.cancel'",
            id="key-and-body-disagree",
        ),
        # The inbox is bound to known keys only; the default exchange bypasses bindings.
        pytest.param(
            "",
            TRACKER_INBOX.name,
            b"{}",
            "unknown routing key 'job-tracker.inbox'",
            id="unknown-key",
        ),
    ],
)
async def test_an_undecodable_message_is_dead_lettered_with_its_reason(
    amqp_url: str, tmp_path: Path, exchange: str, routing_key: str, body: bytes, reason: str
) -> None:
    async with tracker_env(amqp_url, tmp_path) as env, running_tracker(amqp_url, env.store_url):
        await env.bus.publish_raw(exchange, routing_key, body, message_id="bad-1")
        await env.bus.submit(JobType.CRAWL, submit_command("after-the-bad-one"))

        [dead] = await env.bus.take(DLQ, 1)
        assert reason in str(dead.headers[ERROR_HEADER])
        assert dead.body == body
        assert dead.message_id == "bad-1"
        assert dead.headers[ORIGINAL_ROUTING_KEY_HEADER] == routing_key
        assert dead.headers[ORIGINAL_EXCHANGE_HEADER] == exchange
        # The tracker acked it and went on consuming.
        await env.wait_for_job("after-the-bad-one", "exists", lambda _: True)
        assert await env.bus.depth(TRACKER_INBOX.name) == 0


async def test_a_message_that_breaks_the_fold_is_isolated_from_its_batch(
    amqp_url: str, tmp_path: Path
) -> None:
    real_fold = fold.fold_batch

    def fold_rejecting_item_2(
        messages: Sequence[TrackerMessage],
        jobs: dict[str, JobState],
        items: dict[ItemKey, ItemState],
        now: datetime,
    ) -> FoldResult:
        if any(o.item_id == "item-000002" for m in messages for o in getattr(m, "outcomes", ())):
            raise ValueError("item 2 is poison")
        return real_fold(messages, jobs, items, now)

    async with tracker_env(amqp_url, tmp_path) as env:
        # Queued before the tracker starts, so that all of them share one batch.
        await env.bus.submit(JobType.ENRICHMENT, submit_command("poisoned"))
        await env.bus.publish_event(started("poisoned", 4))
        for n in range(4):
            await env.bus.publish_event(outcomes("poisoned", [n]))
        with patch("job_tracker.folding.fold_batch", side_effect=fold_rejecting_item_2):
            async with running_tracker(amqp_url, env.store_url):
                [dead] = await env.bus.take(DLQ, 1)
                job = await env.wait_for_job("poisoned", "folded 3", lambda j: j.ended_items == 3)

        assert "item-000002" in dead.body.decode()
        assert dead.headers[ERROR_HEADER] == "cannot fold: ValueError: item 2 is poison"
        assert (job.processed_items, job.status) == (3, JobStatus.IN_PROGRESS)
