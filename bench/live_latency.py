"""Live-update latency: from an item outcome published to the change on a WebSocket client,
while the tracker folds a heavy background load.

    uv run python -m bench.live_latency [--seconds 60] [--load 10000] [--probe-every 0.3]
        [--no-write]

The tracker and the gateway run as child processes exactly as in production
(`python -m job_tracker`, `python -m gateway`) on a fresh RabbitMQ vhost and SQLite file.
This process plays the workers and a browser:

- background: a job whose item outcomes are published at `--load` items a second (100 per
  message, a message every 10 ms on a fixed schedule), for the whole run;
- probes: another job gets one item outcome every `--probe-every` seconds (jittered by
  ±30 %), its publish time kept on this process's monotonic clock and embedded in the
  outcome's `at`;
- a WebSocket client subscribed to the probe job (`job_id`) and to the running-jobs list
  (`jobs: {status: [in_progress]}`, which carries both jobs, so the background job's
  changes share the socket). A probe's latency runs from just before its publish to the
  first update, on each subscription, whose Job counts it (`processed_items` reaches its
  number);
- a queue of this process's own on `jobs.updates`, where the same is timed for the
  tracker's `JobsUpdated` itself: the tracker's share, the rest being the gateway's.

Measured after a warm-up of 5 s. Goal: p95 <= 250 ms. Prints a table and replaces the
`## live_latency` section of docs/benchmarks.md; run it from the repository root as a
module, and not beside the test suite.
"""

import argparse
import asyncio
import json
import random
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aio_pika.abc import AbstractQueue
from websockets.asyncio.client import ClientConnection, connect

from bench.live import Message, Percentiles, Usage, subscribe, wait_for_jobs, ws_url
from bench.sections import replace_section
from bench.services import bench_token, measured_on, running_services
from jobs_shared.contracts import (
    ItemOutcome,
    ItemOutcomes,
    JobStarted,
    JobsUpdated,
    JobType,
    SubmitJob,
)
from jobs_shared.contracts.vocabulary import ItemStatus
from jobs_shared.topology import UPDATES
from tests.support.rabbit import temporary_vhost
from tests.support.tracker import Bus

GOAL_P95_SECONDS = 0.25
TENANT = "bench"
JOB_TYPE = JobType.ENRICHMENT
BACKGROUND, PROBES = "background", "probes"
ITEMS_PER_MESSAGE = 100
WARM_UP_SECONDS = 5.0
DRAIN_SECONDS = 5.0
KINDS = ("announced", "job", "list")
"""Where a probe is timed: the tracker's `JobsUpdated`, and each WebSocket subscription."""


@dataclass
class Run:
    """What the client saw: per subscription, each probe's latency; the background job's
    count over time (to check the load really was folded)."""

    sent: dict[int, float] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    counted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    background: list[tuple[float, int]] = field(default_factory=list)
    measuring_from: int = 0
    """The first probe that counts (those before it were sent during the warm-up)."""

    def seen(self, kind: str, processed: int, now: float) -> None:
        for probe in range(self.counted[kind] + 1, processed + 1):
            if probe >= self.measuring_from and probe in self.sent:
                self.latencies[kind].append(now - self.sent[probe])
        self.counted[kind] = max(self.counted[kind], processed)


def outcome_message(job_id: str, numbers: range, at: datetime) -> ItemOutcomes:
    return ItemOutcomes(
        job_id=job_id,
        tenant=TENANT,
        job_type=JOB_TYPE,
        outcomes=[
            ItemOutcome(
                item_id=f"{job_id}-{n:09d}", status=ItemStatus.SUCCEEDED, at=at, started_at=at
            )
            for n in numbers
        ],
    )


async def start_jobs(bus: Bus, totals: dict[str, int]) -> None:
    now = datetime.now(UTC)
    for job_id, total in totals.items():
        command = SubmitJob(
            job_id=job_id,
            tenant=TENANT,
            user_email="bench@example.test",
            params={"product_ids": ["p"]},
        )
        await bus.submit(JOB_TYPE, command)
        await bus.publish_event(
            JobStarted(job_id=job_id, tenant=TENANT, job_type=JOB_TYPE, total_items=total, at=now)
        )


async def publish_background(bus: Bus, load: int) -> None:
    """`load` items a second on a fixed schedule: a late message does not shift the rest."""
    interval = ITEMS_PER_MESSAGE / load
    start = time.monotonic()
    for message in range(sys.maxsize):
        first = message * ITEMS_PER_MESSAGE
        batch = outcome_message(
            BACKGROUND, range(first, first + ITEMS_PER_MESSAGE), datetime.now(UTC)
        )
        await bus.publish_event(batch)
        await asyncio.sleep(max(0.0, start + (message + 1) * interval - time.monotonic()))


async def publish_probes(bus: Bus, run: Run, count: int, every: float) -> None:
    for probe in range(1, count + 1):
        await asyncio.sleep(every * random.uniform(0.7, 1.3))
        run.sent[probe] = time.monotonic()
        await bus.publish_event(outcome_message(PROBES, range(probe, probe + 1), datetime.now(UTC)))


async def receive(connection: ClientConnection, run: Run, subscriptions: dict[str, str]) -> None:
    kinds = {subscription: kind for kind, subscription in subscriptions.items()}
    async for raw in connection:
        now = time.monotonic()
        message: Message = json.loads(raw)
        if message["op"] != "update":
            continue
        job = message["job"]
        if job["id"] == PROBES:
            run.seen(kinds[message["subscription"]], job["processed_items"], now)
        elif kinds[message["subscription"]] == "list":
            run.background.append((now, job["processed_items"]))


async def listen_announcements(queue: AbstractQueue, run: Run) -> None:
    async with queue.iterator(no_ack=True) as messages:
        async for message in messages:
            now = time.monotonic()
            for job in JobsUpdated.model_validate_json(message.body).jobs:
                if job.id == PROBES:
                    run.seen("announced", job.processed_items, now)


@dataclass(frozen=True, slots=True)
class Result:
    latencies: dict[str, Percentiles]
    load: int
    folded_per_second: float
    tracker_cpu: float
    gateway_cpu: float
    seconds: float


async def measure(seconds: float, load: int, probe_every: float) -> Result:
    secret = secrets.token_urlsafe(32)
    probes = int((seconds + WARM_UP_SECONDS) / probe_every)
    totals = {BACKGROUND: int(load * (seconds * 2 + WARM_UP_SECONDS + 60)), PROBES: probes + 1}
    run = Run(measuring_from=int(WARM_UP_SECONDS / probe_every) + 1)
    with (
        tempfile.TemporaryDirectory(prefix="bench-live-") as tmp,
        temporary_vhost("jobs-bench-live") as amqp_url,
    ):
        modules = ["job_tracker", "gateway"]
        async with (
            running_services(amqp_url, Path(tmp), secret, modules) as (tracker, gateway),
            Bus.connect(amqp_url) as bus,
        ):
            await start_jobs(bus, totals)
            token = bench_token(secret, TENANT)
            await wait_for_jobs(gateway.port, token, list(totals))
            url = ws_url(gateway.port, token)
            async with connect(url, open_timeout=30, max_queue=None) as connection:
                subscriptions = {
                    "job": (await subscribe(connection, job_id=PROBES))["subscription"],
                    "list": (await subscribe(connection, jobs={"status": ["in_progress"]}))[
                        "subscription"
                    ],
                }
                usages = [Usage(tracker.pid), Usage(gateway.pid)]
                announcements = await bus.listen(UPDATES.name)
                tasks = [
                    asyncio.create_task(receive(connection, run, subscriptions)),
                    asyncio.create_task(listen_announcements(announcements, run)),
                    asyncio.create_task(publish_background(bus, load)),
                    *(asyncio.create_task(usage.run()) for usage in usages),
                ]
                try:
                    started = time.monotonic()
                    await publish_probes(bus, run, probes, probe_every)
                    ended = time.monotonic()
                    await asyncio.sleep(DRAIN_SECONDS)
                finally:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
    window = (started + WARM_UP_SECONDS, ended)
    tracker_cpu, _ = usages[0].between(*window)
    gateway_cpu, _ = usages[1].between(*window)
    return Result(
        latencies={kind: Percentiles.of(values) for kind, values in run.latencies.items()},
        load=load,
        folded_per_second=folded_rate(run.background, *window),
        tracker_cpu=tracker_cpu,
        gateway_cpu=gateway_cpu,
        seconds=ended - window[0],
    )


def folded_rate(counts: list[tuple[float, int]], start: float, end: float) -> float:
    """Background items folded per second over [start, end], from the counts the client saw."""
    inside = [(at, n) for at, n in counts if start <= at <= end]
    if len(inside) < 2:
        return float("nan")
    (first_at, first), (last_at, last) = inside[0], inside[-1]
    return (last - first) / (last_at - first_at)


ROWS = {
    "announced": "the tracker's `JobsUpdated` on `jobs.updates` (not yet at the gateway)",
    "job": "WebSocket update, job subscription (`job_id`)",
    "list": "WebSocket update, list subscription (`status: in_progress`)",
}


def table(result: Result) -> str:
    lines = [
        "| published → | probes | p50 / p95 / p99 / max (ms) | p95 vs goal |",
        "|---|---|---|---|",
    ]
    for kind, name in ROWS.items():
        latencies = result.latencies[kind]
        verdict = "met" if latencies.p95 <= GOAL_P95_SECONDS else "over the goal"
        if kind == "announced":
            verdict = "—"
        lines.append(f"| {name} | {latencies.count} | {latencies.ms()} | {verdict} |")
    return "\n".join(lines)


def write_section(result: Result, command: str) -> None:
    body = "\n".join(
        [
            measured_on(command),
            "",
            "From an item outcome published on `jobs.events` to the first WebSocket update "
            "whose Job counts it. The tracker and the gateway run as child processes "
            "(`python -m job_tracker`, `python -m gateway`) on a fresh vhost and SQLite file; "
            "this process publishes (as the workers) and holds the socket (as a browser), "
            "sharing the two cores with them and RabbitMQ. Background: another job's "
            f"outcomes at {result.load:,} items/s (100 a message); the tracker folded "
            f"{result.folded_per_second:,.0f} items/s of it during the measurement. Probes: "
            "one outcome of a second job about every 0.3 s, for "
            f"{result.seconds:.0f} s after a 5 s warm-up. The socket holds two "
            "subscriptions: the probe job, and the running-jobs list that carries both jobs. "
            "A queue of the benchmark's own on `jobs.updates` times the tracker's "
            "`JobsUpdated` itself: the gap between the first row and the others is the "
            "gateway's share (its queue, decoding, routing, coalescing, writing). "
            f"Mean CPU during the measurement: tracker {result.tracker_cpu:.0f} %, gateway "
            f"{result.gateway_cpu:.0f} % of a core. Goal: p95 <= 250 ms.",
            "",
            table(result),
            "",
            "Where the time goes: the tracker's share is its batch linger (25 ms) plus the "
            "fold, the commit and the publish. The gateway's own work is about a "
            "millisecond: with probes every 0.5 s (`--probe-every 0.5 --seconds 30`) the "
            "WebSocket rows matched the first row within 1 to 2 ms (p50 23 / p95 36 ms, "
            "against 22 / 36 ms). The tail above is the coalescing, as designed: a probe "
            "less than 250 ms after the previous one (about one in five at 0.3 s, jittered) "
            "waits for the rest of that job's interval.",
        ]
    )
    replace_section("live_latency", body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured, after warm-up")
    parser.add_argument("--load", type=int, default=10_000, help="background items a second")
    parser.add_argument("--probe-every", type=float, default=0.3)
    parser.add_argument("--no-write", action="store_true", help="leave docs/benchmarks.md alone")
    args = parser.parse_args()
    result = asyncio.run(measure(args.seconds, args.load, args.probe_every))
    print(table(result))
    print(
        f"background folded: {result.folded_per_second:,.0f} items/s; CPU tracker "
        f"{result.tracker_cpu:.0f} %, gateway {result.gateway_cpu:.0f} %"
    )
    if not args.no_write:
        write_section(result, " ".join(["uv run python -m bench.live_latency", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
