"""Two tracker replicas on one vhost and one store: one folds, the other stands by.

The inbox is single-active-consumer, so the standby receives nothing (and writes
nothing) while the active replica lives; when that one leaves, gracefully or killed
mid-batch, the standby takes over and the counters still come out exact.
"""

import asyncio
import os
import signal
import sys
from asyncio.subprocess import Process
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from unittest.mock import MagicMock, patch

import httpx
import pytest

from job_tracker.app import Tracker
from jobs_shared.contracts import JobStatus, JobType
from tests.support.processes import free_port
from tests.support.tracker import (
    TrackerEnv,
    make_tracker,
    outcomes,
    running,
    started,
    submit_command,
    tracker_env,
    wait_until,
)

pytestmark = pytest.mark.rabbitmq

ITEMS_PER_MESSAGE = 100
FAIL_EVERY = 9


async def publish_items(env: TrackerEnv, job_id: str, first: int, last: int) -> None:
    """Outcomes for items `first`..`last - 1`, a message per hundred items."""
    for start in range(first, last, ITEMS_PER_MESSAGE):
        end = min(start + ITEMS_PER_MESSAGE, last)
        await env.bus.publish_event(outcomes(job_id, range(start, end), fail_every=FAIL_EVERY))


async def assert_exact(env: TrackerEnv, job_id: str, total: int) -> None:
    job = await env.wait_for_job(job_id, "ended", lambda j: j.status != JobStatus.IN_PROGRESS)
    failed = len(range(0, total, FAIL_EVERY))
    assert (job.processed_items, job.failed_items, job.total_items) == (
        total - failed,
        failed,
        total,
    )
    assert job.status == JobStatus.PARTIAL_SUCCESS


@contextmanager
def spied_saves(tracker: Tracker) -> Iterator[MagicMock]:
    with patch.object(tracker.store, "save_fold", wraps=tracker.store.save_fold) as save_fold:
        yield save_fold


async def test_the_standby_takes_over_when_the_active_replica_stops(
    amqp_url: str, tmp_path: Path
) -> None:
    total = 6_000
    async with tracker_env(amqp_url, tmp_path) as env, AsyncExitStack() as active_scope:
        active = make_tracker(amqp_url, env.store_url)
        standby = make_tracker(amqp_url, env.store_url)
        with spied_saves(active) as active_saves, spied_saves(standby) as standby_saves:
            await active_scope.enter_async_context(running(active))
            async with running(standby):
                await env.bus.submit(JobType.ENRICHMENT, submit_command("handover"))
                await env.bus.publish_event(started("handover", total))
                await publish_items(env, "handover", 0, total // 2)
                await env.wait_for_job("handover", "half ended", lambda j: j.ended_items >= 3000)
                assert active_saves.call_count > 0
                assert standby_saves.call_count == 0

                await active_scope.aclose()  # cancels its consumer after its last batch
                await publish_items(env, "handover", 0, total)  # the first half again, too

                await assert_exact(env, "handover", total)
                assert standby_saves.call_count > 0


@asynccontextmanager
async def tracker_process(env: TrackerEnv, log_path: Path) -> AsyncIterator[Process]:
    """`job-tracker` in a child process, ready (its /readyz says so) when the block starts."""
    port = free_port()
    environment = os.environ | {
        "JOBS_AMQP_URL": env.amqp_url,
        "JOBS_STORE_URL": env.store_url,
        "JOBS_HTTP_PORT": str(port),
    }
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "job_tracker", env=environment, stdout=log, stderr=log
        )
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

                async def ready() -> bool:
                    assert process.returncode is None, f"the tracker exited: see {log_path}"
                    try:
                        response = await http.get("/readyz")
                    except httpx.TransportError:
                        return False
                    return response.status_code == 200

                await wait_until(ready, "the tracker process is ready")
                assert (await http.get("/healthz")).json() == {"status": "alive"}
            yield process
        finally:
            if process.returncode is None:
                process.kill()
            async with asyncio.timeout(30):
                await process.wait()


async def test_the_standby_takes_over_when_the_active_replica_is_killed(
    amqp_url: str, tmp_path: Path
) -> None:
    total = 20_000
    async with (
        tracker_env(amqp_url, tmp_path) as env,
        tracker_process(env, tmp_path / "active.log") as active,
    ):
        await env.bus.submit(JobType.ENRICHMENT, submit_command("killed"))
        await env.wait_for_job("killed", "exists", lambda _: True)  # the process is active
        standby = make_tracker(amqp_url, env.store_url)
        with spied_saves(standby) as standby_saves:
            async with running(standby):
                await env.bus.publish_event(started("killed", total))
                await publish_items(env, "killed", 0, 5_000)
                await env.wait_for_job("killed", "5000 ended", lambda j: j.ended_items >= 5000)
                assert standby_saves.call_count == 0

                await publish_items(env, "killed", 5_000, 15_000)
                active.kill()  # SIGKILL mid-stream: its last batches are never acked
                await publish_items(env, "killed", 15_000, total)

                await assert_exact(env, "killed", total)
                assert standby_saves.call_count > 0


async def test_sigterm_stops_the_tracker_gracefully(amqp_url: str, tmp_path: Path) -> None:
    log_path = tmp_path / "tracker.log"
    async with tracker_env(amqp_url, tmp_path) as env:
        async with tracker_process(env, log_path) as process:
            await env.bus.submit(JobType.EXPORT, submit_command("before-sigterm"))
            await env.wait_for_job("before-sigterm", "exists", lambda _: True)
            process.terminate()
            async with asyncio.timeout(30):
                # uvicorn re-raises the signal once it has shut down, as process managers expect
                assert await process.wait() in (0, -signal.SIGTERM)
        log = await asyncio.to_thread(log_path.read_text)
        assert "job-tracker INFO" in log
        assert "FastStream app shut down gracefully" in log
