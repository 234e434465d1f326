"""The tracker's hot path without the broker: what folding an item costs in each stage.

    uv run python -m bench.tracker_stages [--repeat 5] [--no-write]

The same messages as `bench.tracker_throughput` (coalesced reporting, both scenarios) go
through the tracker's own steps in this one process, 500 messages to a batch as the
tracker's batcher takes them: decode (`parse_tracker_message`), load (`keys_to_load`,
`load_jobs`, `load_items`), fold (`fold_batch`) and save (`save_fold`, one transaction)
into a fresh SQLite file. No RabbitMQ, no FastStream, no announcements: the difference
between these stages' sum and the tracker's CPU per item in `tracker_throughput` is what
receiving, acking and announcing cost. Prints a table and replaces the `## tracker_stages`
section of docs/benchmarks.md; the median of `--repeat` runs of each scenario.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.sections import replace_section
from bench.services import measured_on
from bench.tracker_throughput import SCENARIOS, messages_for
from jobs_shared.collector import tune_collector
from jobs_shared.contracts import parse_tracker_message, utc_now
from jobs_shared.domain.fold import fold_batch, keys_to_load
from jobs_shared.store.sqlite import SqliteJobStore

BATCH_MESSAGES = 500
"""As the tracker's default batch (`JOBS_TRACKER_BATCH_SIZE`)."""
STAGES = ("decode", "load", "fold", "save")


@dataclass(frozen=True, slots=True)
class Run:
    items: int
    seconds: dict[str, float]

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


async def run_once(scenario: str) -> Run:
    jobs, items = SCENARIOS[scenario]
    messages, _ = messages_for(jobs, items, "coalesced")
    seconds = dict.fromkeys(STAGES, 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteJobStore(Path(tmp) / "jobs.db")
        await store.open()
        tune_collector()  # as the tracker does once started
        try:
            for first in range(0, len(messages), BATCH_MESSAGES):
                began = time.perf_counter()
                batch = [
                    parse_tracker_message(key, body, f"fallback-{first}")
                    for _, key, body in messages[first : first + BATCH_MESSAGES]
                ]
                decoded = time.perf_counter()
                job_ids, item_keys = keys_to_load(batch)
                loaded_jobs = await store.load_jobs(job_ids)
                loaded_items = await store.load_items(item_keys) if item_keys else {}
                loaded = time.perf_counter()
                result = fold_batch(batch, loaded_jobs, loaded_items, utc_now())
                folded = time.perf_counter()
                await store.save_fold(list(result.jobs.values()), list(result.items.values()))
                saved = time.perf_counter()
                for stage, (start, end) in zip(
                    STAGES,
                    ((began, decoded), (decoded, loaded), (loaded, folded), (folded, saved)),
                    strict=True,
                ):
                    seconds[stage] += end - start
        finally:
            await store.close()
    return Run(jobs * items, seconds)


def per_item_us(runs: list[Run], stage: str | None = None) -> float:
    """The median over `runs` of one stage's (or the whole path's) µs per item."""
    return statistics.median(
        (run.total if stage is None else run.seconds[stage]) / run.items * 1e6 for run in runs
    )


def table(results: dict[str, list[Run]]) -> str:
    lines = [
        "| scenario | "
        + " | ".join(f"{stage} µs/item" for stage in STAGES)
        + " | all µs/item | items/s on one core |",
        "|---|" + "---|" * (len(STAGES) + 2),
    ]
    for scenario, runs in results.items():
        jobs, items = SCENARIOS[scenario]
        name = f"{jobs:,} job{'s' if jobs > 1 else ''} × {items:,} items"
        stages = " | ".join(f"{per_item_us(runs, stage):.1f}" for stage in STAGES)
        total = per_item_us(runs)
        lines.append(f"| {name} | {stages} | {total:.1f} | {1e6 / total:,.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per scenario (median kept)")
    parser.add_argument("--no-write", action="store_true", help="leave docs/benchmarks.md alone")
    args = parser.parse_args()
    results = {
        scenario: [asyncio.run(run_once(scenario)) for _ in range(args.repeat)]
        for scenario in SCENARIOS
    }
    print(table(results))
    if args.no_write:
        return
    command = "uv run python -m bench.tracker_stages " + " ".join(sys.argv[1:])
    body = "\n".join(
        [
            measured_on(command.strip()),
            "",
            "The tracker's own steps in one process, without RabbitMQ: the messages of "
            "`tracker_throughput` (coalesced) decoded, loaded against, folded and saved into "
            f"a fresh SQLite file, {BATCH_MESSAGES} messages to a batch; the median of "
            f"{args.repeat} runs. `save` includes SQLite's own work in the store's writer "
            "thread, which in the running tracker overlaps with receiving the next batch.",
            "",
            table(results),
            "",
        ]
    )
    replace_section("tracker_stages", body)


if __name__ == "__main__":
    main()
