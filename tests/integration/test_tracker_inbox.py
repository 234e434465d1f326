"""The tracker through real RabbitMQ: submits, folding, batching and notifications."""

from pathlib import Path
from unittest.mock import patch

import pytest

from jobs_shared.contracts import JobStatus, JobsUpdated, JobType, RunJob
from jobs_shared.contracts.views import JobView
from jobs_shared.errors import ErrorCategory
from jobs_shared.store.port import JobQuery
from jobs_shared.store.sqlite import SqliteJobStore
from jobs_shared.topology import COMMANDS, RUN_QUEUES, TRACKER_INBOX, UPDATES
from tests.support.rabbit import close_connection_consuming
from tests.support.tracker import (
    outcomes,
    running_tracker,
    started,
    submit_command,
    tracker_env,
    wait_until,
)

pytestmark = pytest.mark.rabbitmq

ENRICHMENT_RUNS = RUN_QUEUES[JobType.ENRICHMENT].name


async def test_a_submit_creates_a_pending_job_and_dispatches_it(
    amqp_url: str, tmp_path: Path
) -> None:
    async with tracker_env(amqp_url, tmp_path) as env, running_tracker(amqp_url, env.store_url):
        await env.bus.submit(JobType.ENRICHMENT, submit_command("submit-1"))

        job = await env.wait_for_job("submit-1", "exists", lambda _: True)
        assert job.status == JobStatus.PENDING
        assert (job.type, job.tenant, job.user_email) == (
            JobType.ENRICHMENT,
            "acme",
            "ops@acme.test",
        )
        assert job.params == {"product_ids": ["p1"]}
        [delivered] = await env.bus.take(ENRICHMENT_RUNS, 1)
        run = RunJob.model_validate_json(delivered.body)
        assert delivered.routing_key == "enrichment.run"
        assert (run.job_id, run.job_type, run.params) == (
            "submit-1",
            JobType.ENRICHMENT,
            {"product_ids": ["p1"]},
        )


async def test_a_second_submit_with_the_same_job_id_creates_nothing_new(
    amqp_url: str, tmp_path: Path
) -> None:
    first = submit_command("submit-twice")
    second = first.model_copy(update={"params": {"product_ids": ["other"]}, "user_email": "x@y"})
    async with tracker_env(amqp_url, tmp_path) as env, running_tracker(amqp_url, env.store_url):
        await env.bus.submit(JobType.ENRICHMENT, first)
        await env.bus.take(ENRICHMENT_RUNS, 1)
        await env.bus.submit(JobType.ENRICHMENT, second)
        # Still pending, so the repeated submit hands the same job to a worker again.
        [again] = await env.bus.take(ENRICHMENT_RUNS, 1)

        assert RunJob.model_validate_json(again.body).params == {"product_ids": ["p1"]}
        [job] = await env.store.list_jobs("acme", JobQuery(), limit=10, after=None)
        assert (job.id, job.user_email, job.params) == (
            "submit-twice",
            "ops@acme.test",
            {"product_ids": ["p1"]},
        )


async def test_a_submit_without_job_id_is_named_by_its_message_id(
    amqp_url: str, tmp_path: Path
) -> None:
    command = submit_command("unused").model_copy(update={"job_id": None})
    async with tracker_env(amqp_url, tmp_path) as env, running_tracker(amqp_url, env.store_url):
        await env.bus.publish_raw(
            COMMANDS.name,
            "crawl.submit",
            command.model_dump_json().encode(),
            message_id="message-42",
        )

        job = await env.wait_for_job("message-42", "exists", lambda _: True)
        assert job.type == JobType.CRAWL


async def test_events_fold_into_exact_counters_despite_duplicates(
    amqp_url: str, tmp_path: Path
) -> None:
    total = 300
    batches = [
        outcomes("exact", range(start, start + 100), fail_every=7) for start in (0, 100, 200)
    ]
    async with tracker_env(amqp_url, tmp_path) as env, running_tracker(amqp_url, env.store_url):
        await env.bus.submit(JobType.ENRICHMENT, submit_command("exact"))
        await env.bus.publish_event(started("exact", total))
        for event in [batches[1], *batches, batches[1], batches[0]]:
            await env.bus.publish_event(event)

        job = await env.wait_for_job("exact", "ended", lambda j: j.ended_items == total)
        failed = len(range(0, total, 7))
        assert (job.processed_items, job.failed_items, job.skipped_items) == (
            total - failed,
            failed,
            0,
        )
        assert job.error_counts == {ErrorCategory.TIMEOUT: failed}
        assert job.status == JobStatus.PARTIAL_SUCCESS


async def test_a_batch_commits_many_messages_with_one_store_write(
    amqp_url: str, tmp_path: Path
) -> None:
    messages, per_message = 400, 10
    async with tracker_env(amqp_url, tmp_path) as env:
        # Queue everything first, so the tracker finds a backlog and batches fill up.
        await env.bus.submit(JobType.ENRICHMENT, submit_command("batched"))
        await env.bus.publish_event(started("batched", messages * per_message))
        for n in range(messages):
            await env.bus.publish_event(
                outcomes("batched", range(n * per_message, (n + 1) * per_message))
            )
        with patch.object(
            SqliteJobStore, "save_fold", autospec=True, side_effect=SqliteJobStore.save_fold
        ) as save_fold:
            async with running_tracker(amqp_url, env.store_url, batch_size=200):
                job = await env.wait_for_job(
                    "batched", "completed", lambda j: j.status == JobStatus.COMPLETED
                )

        assert job.processed_items == messages * per_message
        assert 2 <= save_fold.call_count <= (messages + 2) // 20, save_fold.call_count


async def test_each_committed_batch_announces_the_jobs_it_changed(
    amqp_url: str, tmp_path: Path
) -> None:
    async with tracker_env(amqp_url, tmp_path) as env:
        updates = await env.bus.listen(UPDATES.name)
        async with running_tracker(amqp_url, env.store_url):
            await env.bus.submit(JobType.ENRICHMENT, submit_command("announced"))
            await env.bus.take(ENRICHMENT_RUNS, 1)
            await env.bus.publish_event(started("announced", 5))
            await env.bus.publish_event(outcomes("announced", range(5)))

            seen: list[JobView] = []

            async def completed() -> bool:
                while (message := await updates.get(fail=False, no_ack=True)) is not None:
                    seen.extend(JobsUpdated.model_validate_json(message.body).jobs)
                return any(job.status == JobStatus.COMPLETED for job in seen)

            await wait_until(completed, "a JobsUpdated says the job completed")

        assert seen[0].status == JobStatus.PENDING
        final = seen[-1]
        assert (final.id, final.processed_items, final.total_items) == ("announced", 5, 5)
        assert (final.progress_pct, final.success_rate) == (100.0, 100.0)


async def test_after_the_broker_drops_its_connection_the_tracker_consumes_again(
    amqp_url: str, tmp_path: Path
) -> None:
    """The inbox consumer lives on the broker's robust connection: once it is back, the
    channel, its prefetch and the consumer are restored, and folding goes on, exact."""
    async with tracker_env(amqp_url, tmp_path) as env:
        async with running_tracker(amqp_url, env.store_url):
            await env.bus.submit(JobType.ENRICHMENT, submit_command("reconnected"))
            await env.bus.publish_event(started("reconnected", 10))
            await env.bus.publish_event(outcomes("reconnected", range(5)))
            await env.wait_for_job("reconnected", "5 items ended", lambda j: j.ended_items == 5)

            close_connection_consuming(amqp_url, TRACKER_INBOX.name)
            await env.bus.publish_event(outcomes("reconnected", range(3, 10)))  # 3 to 4 again

            job = await env.wait_for_job(
                "reconnected", "completed", lambda j: j.status == JobStatus.COMPLETED
            )
        assert (job.processed_items, job.ended_items, job.total_items) == (10, 10, 10)
