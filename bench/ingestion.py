"""Rows per second of document ingestion end to end, next to the raw parse of the same file.

    uv run python -m bench.ingestion [--rows 100000] [--pages 100] [--only csv|xlsx|pdf]
        [--replicas 1] [--runs 3] [--no-write]

Three generated files: a CSV and an XLSX of `--rows` product rows (SKU, title,
description, price, currency, brand, category, a valid EAN-13, image URL, colour) and a
PDF of `--pages` pages, each with a ruled line-item table. For each, `raw` is
`read_document` over the file alone, in this process, timed just before and just after
the end-to-end run (the services idle) and averaged; `end to end` runs from the start
of the upload (`POST /api/v1/documents`) until the store shows the job `completed` with
every row counted (polled every 20 ms): upload, blob store, submit, the tracker's fold,
the worker's plan and chunks over RabbitMQ, catalog upserts and outcome reports. The
services run as child processes exactly as in production (`python -m job_tracker`,
`python -m ingestion`, `python -m gateway`) on a fresh RabbitMQ vhost, one SQLite file
and a blob directory in a temporary folder; they share the machine's cores with RabbitMQ
and this process. Goal: end to end at most twice the raw parse (ratio <= 2).

`--runs` rounds, each on fresh services and each timing the raw parse again, so that a
run's ratio is taken against parses on the machine as it was then (its speed drifts by
a tenth to a third over minutes); the run with the
median ratio is reported, with the CPU seconds every process used during it (read from
/proc, the worker's document readers included) and the share of the cores' time the
hypervisor took for other guests meanwhile (`steal` in /proc/stat).

The processes' CPU is also read every quarter second; for one worker replica, the median
runs' timelines are drawn (`docs/img/ingestion_cpu.png`): how many cores each process kept
busy, stacked, against the two there are.

Prints the tables and replaces the `## ingestion` section of docs/benchmarks.md. Run it
from the repository root as a module (it borrows the tests' vhost and PDF helpers), and
not beside the test suite.
"""

import argparse
import asyncio
import csv
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import httpx
import matplotlib.pyplot as plt
import pymupdf
import xlsxwriter
from tqdm import tqdm

from bench.sections import DOC, replace_section
from bench.services import (
    bench_token,
    cpu_seconds,
    measured_on,
    running_services,
    stolen_seconds,
    tree_cpu_seconds,
)
from ingestion import read_document
from jobs_shared.contracts import TERMINAL_JOB_STATUSES, JobStatus
from jobs_shared.store.sqlite import SqliteJobStore
from tests.support.rabbit import temporary_vhost
from tests.unit.ingestion.builders import ruled_table_pdf

GOAL_RATIO = 2.0
CORES = os.cpu_count() or 1
TENANT = "bench"
POLL_SECONDS = 0.02
HEADER = ["SKU", "Title", "Description", "Price", "Currency", "Brand", "Category", "EAN"]
HEADER += ["Image URL", "Colour"]
PROCESS_NAMES = {"ingestion": "worker", "job_tracker": "tracker", "gateway": "gateway"}
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@dataclass(frozen=True, slots=True)
class Result:
    kind: str
    rows: int
    size_bytes: int
    raw_parses: tuple[float, float]
    """Seconds of two raw parses, just before the end-to-end run and just after it."""
    end_to_end_seconds: float
    cpu_seconds: dict[str, float]
    """CPU each process used during the end-to-end run: where the time went."""
    timeline: list[tuple[float, dict[str, float]]]
    """Seconds since the upload began, and each process's CPU seconds so far then."""
    stolen_share: float
    """The share of the cores' time during the end-to-end run that the hypervisor gave to
    other guests (`stolen_seconds`)."""

    @property
    def raw_seconds(self) -> float:
        return sum(self.raw_parses) / len(self.raw_parses)

    @property
    def ratio(self) -> float:
        return self.end_to_end_seconds / self.raw_seconds


# --- generated files -----------------------------------------------------------------


def _ean13(number: int) -> str:
    digits = f"400{number:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def product_rows(count: int) -> Iterator[list[str | float]]:
    rng = random.Random(42)
    colours = ["red", "green", "blue", "black", "white"]
    for n in range(count):
        yield [
            f"SKU-{n:07d}",
            f"{rng.choice(['Desk lamp', 'Chair', 'Mug', 'Rug', 'Sofa'])} model {n}",
            "A sturdy, well made product for every home. " * 2,
            round(rng.uniform(1, 999), 2),
            "EUR",
            f"Brand {n % 97}",
            "Home & Garden > Decor",
            _ean13(n),
            f"https://img.example/{n}.jpg",
            rng.choice(colours),
        ]


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(tqdm(product_rows(rows), total=rows, desc="csv", leave=False))


def write_xlsx(path: Path, rows: int) -> None:
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_urls": False})
    sheet = workbook.add_worksheet("Products")
    sheet.write_row(0, 0, HEADER)
    for index, row in enumerate(
        tqdm(product_rows(rows), total=rows, desc="xlsx", leave=False), start=1
    ):
        sheet.write_row(index, 0, row)
    workbook.close()


def write_pdf(path: Path, pages: int) -> None:
    """Invoice pages with a ruled table of 22 lines each (the tests' table builder)."""
    rng = random.Random(7)
    document = pymupdf.open()  # type: ignore[no-untyped-call]
    for page in tqdm(range(pages), desc="pdf", leave=False):
        lines = [
            [f"[P{page:03d}{line:02d}] Item {page}-{line}", str(rng.randint(1, 9)), f"{line}.50"]
            for line in range(22)
        ]
        one_page = pymupdf.open(  # type: ignore[no-untyped-call]
            stream=ruled_table_pdf([["Description", "Quantity", "Unit price"], *lines])
        )
        document.insert_pdf(one_page)  # type: ignore[no-untyped-call]
    document.save(str(path))  # type: ignore[no-untyped-call]


def raw_parse(path: Path) -> tuple[int, float]:
    """The file's rows, and the seconds `read_document` took to read them."""
    started = time.perf_counter()
    rows = sum(1 for _ in tqdm(read_document(path), desc=f"parse {path.suffix}", leave=False))
    return rows, time.perf_counter() - started


# --- measuring -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prepared:
    kind: str
    path: Path
    data: bytes


def prepare(kinds: list[str], rows: int, pages: int, folder: Path) -> list[Prepared]:
    """Write each file."""
    writers = {
        "csv": lambda path: write_csv(path, rows),
        "xlsx": lambda path: write_xlsx(path, rows),
        "pdf": lambda path: write_pdf(path, pages),
    }
    prepared = []
    for kind in kinds:
        path = folder / f"products.{kind}"
        writers[kind](path)
        prepared.append(Prepared(kind, path, path.read_bytes()))
    return prepared


def rabbitmq_pid() -> int:
    """The broker's operating-system process, to read its CPU time like the services'."""
    printed = subprocess.run(
        ["rabbitmqctl", "-q", "eval", "os:getpid()."],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(printed.strip().strip('"'))


READERS = "worker's readers"
"""The worker's document readers and their fork server: every process under a worker."""


def cpu_by_process(processes: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of each named group of processes, and of the worker's readers."""
    used = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in processes.items()}
    workers = processes["worker"]
    used[READERS] = sum(tree_cpu_seconds(pid) - cpu_seconds(pid) for pid in workers)
    return used


SAMPLE_SECONDS = 0.25
"""How often the processes' CPU is read during a run, for the timeline picture."""


async def sample_cpu(
    processes: dict[str, list[int]], samples: list[tuple[float, dict[str, float]]]
) -> None:
    """Append `(seconds since start, cpu_by_process)` every `SAMPLE_SECONDS` until cancelled."""
    started = time.perf_counter()
    while True:
        samples.append((time.perf_counter() - started, cpu_by_process(processes)))
        await asyncio.sleep(SAMPLE_SECONDS)


async def end_to_end(
    gateway: httpx.AsyncClient, store: SqliteJobStore, file: Prepared, rows: int
) -> float:
    started = time.perf_counter()
    response = await gateway.post(
        "/api/v1/documents",
        files={"file": (file.path.name, file.data, MEDIA_TYPES[file.kind])},
    )
    response.raise_for_status()
    job_id = response.json()["id"]
    with tqdm(total=rows, desc=f"end to end {file.kind}", unit="row", leave=False) as bar:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            job = await store.get_job(TENANT, job_id)
            if job is not None:
                bar.update(job.processed_items + job.failed_items - bar.n)
                if job.status in TERMINAL_JOB_STATUSES:
                    elapsed = time.perf_counter() - started
                    if (job.status, job.processed_items) != (JobStatus.COMPLETED, rows):
                        raise AssertionError(
                            f"{file.kind}: {job.status} with {job.processed_items} of "
                            f"{rows} rows ({job.error})"
                        )
                    return elapsed
            await asyncio.sleep(POLL_SECONDS)
    raise TimeoutError(f"the {file.kind} job did not end within 900 s")


def run_round(files: list[Prepared], folder: Path, replicas: int) -> list[Result]:
    """One round: each file end to end on services of its own (a fresh vhost, SQLite file
    and blob folder in `folder`), between two raw parses of it."""
    folder.mkdir()
    return asyncio.run(measure(files, folder, replicas))


async def measure(files: list[Prepared], folder: Path, replicas: int) -> list[Result]:
    secret = secrets.token_urlsafe(32)
    token = bench_token(secret, TENANT)
    results = []
    modules = ["job_tracker", "gateway", *["ingestion"] * replicas]
    with temporary_vhost("jobs-bench-ingestion") as amqp_url:
        async with running_services(amqp_url, folder, secret, modules) as services:
            port = services[1].port
            processes = {"RabbitMQ": [rabbitmq_pid()]}
            for service in services:
                processes.setdefault(PROCESS_NAMES[service.module], []).append(service.pid)
            store = SqliteJobStore(folder / "jobs.db")
            await store.open()
            try:
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port}",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=120,
                ) as gateway:
                    for file in files:
                        # The machine's speed drifts over minutes: the end-to-end run is
                        # taken against parses just before and just after it (the services
                        # idle meanwhile), not against one parse a minute earlier.
                        rows, parse_before = raw_parse(file.path)
                        stolen_before = stolen_seconds()
                        timeline: list[tuple[float, dict[str, float]]] = []
                        sampler = asyncio.create_task(sample_cpu(processes, timeline))
                        await asyncio.sleep(0)  # the first sample: the CPU before the run
                        try:
                            seconds = await end_to_end(gateway, store, file, rows)
                        finally:
                            sampler.cancel()
                        last = cpu_by_process(processes)
                        stolen = (stolen_seconds() - stolen_before) / (CORES * seconds)
                        cpu = {name: used - timeline[0][1][name] for name, used in last.items()}
                        timeline.append((seconds, last))
                        _, parse_after = raw_parse(file.path)
                        results.append(
                            Result(
                                file.kind,
                                rows,
                                len(file.data),
                                (parse_before, parse_after),
                                seconds,
                                cpu,
                                timeline,
                                stolen,
                            )
                        )
            finally:
                await store.close()
    return results


# --- reporting -------------------------------------------------------------------------


def median_run(runs: list[Result]) -> Result:
    """The run with the median ratio (each run's ratio is taken against the raw parse of its
    own round, so a drift of the machine's speed between rounds cancels out)."""
    return sorted(runs, key=lambda run: run.ratio)[len(runs) // 2]


def table(rounds: list[list[Result]]) -> str:
    lines = [
        "| file | rows | size | raw parse s (rows/s) | before, after s "
        "| end to end s (rows/s) | ratio | ratios of the runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for runs in zip(*rounds, strict=True):
        r = median_run(list(runs))
        ratios = ", ".join(f"{run.ratio:.2f}" for run in runs)
        lines.append(
            f"| {r.kind} | {r.rows:,} | {r.size_bytes / 1e6:.1f} MB "
            f"| {r.raw_seconds:.2f} ({r.rows / r.raw_seconds:,.0f}) "
            f"| {r.raw_parses[0]:.2f}, {r.raw_parses[1]:.2f} "
            f"| {r.end_to_end_seconds:.2f} ({r.rows / r.end_to_end_seconds:,.0f}) "
            f"| {r.ratio:.2f}{'' if r.ratio <= GOAL_RATIO else ' (over the goal)'} | {ratios} |"
        )
    return "\n".join(lines)


def cpu_table(rounds: list[list[Result]]) -> str:
    """CPU seconds of each process during each file's median run, beside the raw parse's: on
    two cores that share their time, the sum over processes is what the end-to-end time
    follows."""
    results = [median_run(list(runs)) for runs in zip(*rounds, strict=True)]
    names = list(results[0].cpu_seconds)
    lines = [
        "| file | raw parse s | "
        + " | ".join(f"{name} CPU s" for name in names)
        + " | all processes CPU s | all / raw parse | taken by the host |",
        "|---|---|" + "---|" * (len(names) + 3),
    ]
    for r in results:
        total = sum(r.cpu_seconds.values())
        cells = " | ".join(f"{r.cpu_seconds[name]:.2f}" for name in names)
        ratio = total / r.raw_seconds
        lines.append(
            f"| {r.kind} | {r.raw_seconds:.2f} | {cells} | {total:.2f} | {ratio:.2f} "
            f"| {r.stolen_share:.0%} |"
        )
    return "\n".join(lines)


PICTURE = Path("img/ingestion_cpu.png")
"""The timeline picture, relative to docs/benchmarks.md."""


def plot(results: list[Result], path: Path) -> None:
    """Cores each process kept busy over each file's median run (stacked), against the two
    the machine has, with the raw parse's time and the goal (twice it) marked."""
    plt.switch_backend("Agg")  # a file, never a window
    figure, axes = plt.subplots(len(results), 1, figsize=(9, 2.6 * len(results)), squeeze=False)
    for axis, result in zip(axes[:, 0], results, strict=True):
        names = list(result.cpu_seconds)
        points = result.timeline
        times = [(a + b) / 2 for (a, _), (b, _) in pairwise(points)]
        cores = [
            [
                max(0.0, (later[name] - earlier[name]) / (b - a)) if b > a else 0.0
                for (a, earlier), (b, later) in pairwise(points)
            ]
            for name in names
        ]
        axis.stackplot(times, cores, labels=names, step="mid", alpha=0.8)
        axis.axhline(2, color="black", linewidth=0.8)
        axis.axvline(result.raw_seconds, color="tab:green", linestyle="--", label="raw parse")
        axis.axvline(GOAL_RATIO * result.raw_seconds, color="tab:red", linestyle=":", label="goal")
        axis.set_ylim(0, 2.3)
        axis.set_ylabel("cores busy")
        axis.set_title(
            f"{result.kind.upper()}, {result.rows:,} rows: {result.end_to_end_seconds:.2f} s "
            f"end to end, ratio {result.ratio:.2f}",
            fontsize=10,
        )
    axes[0, 0].legend(loc="upper right", fontsize=7, ncol=4)
    axes[-1, 0].set_xlabel("seconds since the upload began")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_section(rounds: list[list[Result]], command: str, replicas: int) -> None:
    """`## ingestion` for one worker replica, with what explains it; a section of its own
    (the tables only) for another number of replicas."""
    workers = "one ingestion worker process" if replicas == 1 else f"{replicas} worker processes"
    parts = [
        measured_on(command),
        "",
        "Generated files: CSV and XLSX of product rows (10 columns), a PDF of ruled "
        "invoice tables (22 lines a page). `raw parse` is `read_document` over the file "
        "alone; `end to end` runs from the start of the upload until the store shows the "
        "job completed with every row counted: upload and blob store, submit, tracker, "
        "the worker's plan and chunks over RabbitMQ, catalog upserts, outcome reports. "
        "Services run as child processes (`python -m job_tracker`, `python -m ingestion`, "
        "`python -m gateway`) on a fresh vhost and SQLite file, sharing the two cores "
        f"with RabbitMQ; {workers}. Each of the {len(rounds)} rounds runs on fresh "
        "services and times the raw parse again, just before and just after each "
        "end-to-end run (the services idle meanwhile), and takes their mean: the machine's "
        "speed drifts over minutes, so a run is compared with parses on the machine as it "
        "was during that run. The run with the median ratio is shown, with "
        "every run's ratio beside it, and the CPU seconds each process used in it "
        "(the worker's document readers apart from the worker's own process), and the "
        "share of the two cores' time the hypervisor gave to other machines during it "
        "(`steal` in /proc/stat). "
        f"Goal: ratio (end to end / raw parse) <= {GOAL_RATIO:g}.",
        "",
        table(rounds),
        "",
        cpu_table(rounds),
    ]
    if replicas == 1:
        plot([median_run(list(runs)) for runs in zip(*rounds, strict=True)], DOC.parent / PICTURE)
        parts += [
            "",
            f"![cores each process kept busy during each file's median run]({PICTURE})",
            "",
            *EXPLAINED,
        ]
    name = "ingestion" if replicas == 1 else f"ingestion with {replicas} worker replicas"
    replace_section(name, "\n".join(parts))


EXPLAINED = [
    "Where the time goes (100,000-row CSV, the tables above): the processes together "
    "use 3.2 to 3.65 times the parse's CPU (4.6 to 5 before the seventh session, 3.4 to "
    "3.6 before the eighth; the XLSX 2.4), and on two cores the end-to-end time cannot "
    "be less than half of that: the CPU table's last column over 2 is the lowest ratio "
    "these processes allow (1.6 to 1.8 for the CSV, 1.2 for the XLSX). In parses of "
    "CPU, for the CSV (the median runs of this session's five-round runs): the "
    "worker's document reader 1.4 to 1.5 (it parses each row, builds its item and writes "
    "the chunk's JSON; alone, in one process, the items add an eighth to the parse, so "
    "most of the rest is the parse running slower while the other core is busy), the "
    "worker's own process 1.0 to 1.3 (its event loop, and its SQLite writer thread at "
    "about a third of it), the tracker 0.5 to 0.6, RabbitMQ 0.15 to 0.2, the gateway "
    "0.05. In "
    "the worker's event loop, by py-spy: validating products a fifth, the catalog's rows "
    "a seventh (ids, search text, JSON), decoding chunks an eighth, AMQP framing and "
    "socket writes a fifteenth, the items' outcomes a fifteenth (a quarter before the "
    "eighth session), waiting a seventh, the rest asyncio and FastStream. A PDF row costs "
    "far more to parse than to track, so its ratio is near 1; an XLSX row costs nearly "
    "twice a CSV row to parse, so the same tracking weighs half as much.",
    "",
    "The picture shows when: the cores are nearly full (1.6 to 1.95 of the two) from the "
    "first chunk to the last; the reader gets about 0.8 to 0.9 of one core for most of "
    "the run (the worker, the tracker and RabbitMQ take the rest) and is the last to "
    "finish, the worker working off its last chunk within a fraction of a second after "
    "it. The XLSX reader first spends more than a "
    "second alone: python-calamine reads the whole sheet before it yields the first "
    "row, so nothing downstream can start (the raw parse pays that second too).",
    "",
    "What changed it (CSV, 100,000 rows): on the first session's machine, one item at a "
    "time with a commit per upsert, 26.6 s (ratio 20); `BatchWorker` (a chunk of 1,000 "
    "rows processed in one call and written in one transaction, outcomes 1,000 per "
    "message) 14.1 s; the collector tuned and the product sent as one JSON string "
    "inside the item, 8.5 to 10.5 s. In the fourth session (alternating runs of the "
    "previous commit and the new code): CSV ratio 5.66 and 5.33 before, 3.72 and 3.59 "
    "after; XLSX 3.29 and 3.29 before, 2.19 and 2.23 after, from the file read in a "
    "process of its own (the worker had parsed in a thread, holding its interpreter "
    "lock a third of the time), one confirmation per chunk's outcomes, the product's "
    "JSON built as a plain dict in the reader, and the readers' fork server made ready "
    "before the worker says it is. In the fifth session, the same way (`uv run python "
    "-m bench.ingestion --only csv --runs 1 --no-write`, then `--only xlsx`, two rounds "
    "each, the fourth session's last commit against the new code): CSV ratio 3.66 and "
    "3.75 before, 2.85 and 2.84 after; XLSX 2.51 and 2.39 before, 1.95 and 2.03 after; "
    "all processes' CPU for the CSV 10.4 s before, 9.4 after. What did it, found by "
    "timing each process's CPU every quarter second (the processes were often waiting, "
    "not busy) and each step of a batch in the worker's threads: the reader's pipe got "
    "a 1 MB buffer (with Linux's 64 KB a batch went through in pieces, each taken by a "
    "thread that needed the interpreter lock back from a busy event loop, and the "
    "reader waited on a full pipe half the time); SQLite's checkpoints moved out of the "
    "writer's commits to a connection of their own (the writing thread spent 30 to 38 "
    "ms of a batch with them, 16 to 21 without); each SQLite transaction became one "
    "call into a writer thread of its own and a catalog batch one statement (between "
    "statements the thread had waited for the event loop and the interpreter lock); the "
    "worker's outcomes built without validation and written with orjson (the tracker "
    "validates them on arrival). In the sixth session, the same way (CSV four rounds, "
    "XLSX two): CSV ratio 3.03, 3.27, 2.83 and 3.01 before, 3.01, 2.81, 2.83 and 2.71 "
    "after, the worker's CPU 4.9 to 5.5 s before and 4.6 to 5.0 after; XLSX 2.07 and "
    "2.37 before, 2.10 and 2.00 after (no difference beyond the spread): product ids "
    "that grow with time, made on a product's first write, instead of ids hashed from "
    "its key, whose index every 1,000-row batch had rewritten nearly all over. By "
    "py-spy over the same 9 s of a run, the writing thread's samples fell from 1,114 to "
    "597 and the checkpointing connection's from 161 to 78; alone, in a throwaway "
    "script, 7.7 to 8.6 µs a product instead of 11.8 to 16, and half the log (`## "
    "ingestion experiments`). A new id's random bits then came from `random` instead of "
    "the system (a system call an id had been a twentieth of the event loop). In the "
    "seventh session, three changes to the worker's event loop, where py-spy had found "
    "a sixth of the time in planning (a `WorkItem` built per row from the reader's "
    "values, a queue step per item, pydantic writing each chunk) and nearly a third in "
    "the product (a pydantic model validated from the row's JSON, then dumped again for "
    "the catalog): the reader writes a chunk's items as JSON (`EncodedItems`), which "
    "the planner copies into the chunk message as it is; a product is a `TypedDict` "
    "validated by a `TypeAdapter` and written with orjson (in one process, validating, "
    "writing and the catalog row's other values 3.1 to 3.3 µs a row instead of 7.1 to "
    "7.3); a batch's outcomes are built without a record per item in between. "
    "Alternating single runs of the sixth session's last commit and the new code, four "
    "rounds, the bench as it is now: CSV ratio 2.24, 2.44, 2.24 and 2.19 before, 1.87, "
    "1.88, 2.19 and 2.01 after; the worker's CPU 5.7 to 6.5 s before, 4.7 to 5.1 after "
    "(the readers' 4.0 to 4.6 s before, 4.4 to 5.0 after: they now write the JSON). The "
    "same session made the bench take each run against parses just before and just "
    "after it, and report the share of the cores the hypervisor took. In the eighth "
    "session, a batch's outcomes are written as JSON from a template the batch shares "
    "(`SucceededOutcomes`: status, attempt and times written once, each item's id, label "
    "and result in front) and enter the outcome buffer as one entry, where each item had "
    "cost an `ItemOutcome`, a buffer entry and its result written twice (in one process "
    "1.6 against 7 to 10 µs an item on that session's slow machine). Alternating single "
    "runs of the seventh session's last commit and the new code, four rounds: CSV ratio "
    "1.91, 1.92, 1.81 and 2.00 before, 1.79, 1.77, 1.79 and 1.97 after; the worker's CPU "
    "1.24 to 1.47 parses before, 1.03 to 1.34 after; all processes' 3.31 to 3.60 parses "
    "before, 3.13 to 3.50 after.",
    "",
    "Tried and left out, as alternating runs with no difference beyond the runs' spread "
    "(about 5 %): four chunks prefetched instead of two (in the fourth and the fifth "
    "session); the catalog in a file of its own; a tenth, and a fifth, of the "
    "interpreter's switch interval; the document reader at a lower priority (nice 5 and "
    "10); the worker's garbage collector switched off; chunks of 2,000 rows instead of "
    "1,000 (CSV 2.72 and 3.04, XLSX 1.88 and 1.90); SQLite checkpoints every 3 s "
    "instead of every 0.5 s (the seventh session, six pairs: 1.77 to 2.22 against 1.77 "
    "to 2.39). SQLite checkpoints every 40 MB of log instead of 4 MB made no difference "
    "in the fourth session, when the reader's pipe was the limit; moved off the writer "
    "they are part of the change above. A second worker replica (`--replicas 2`, the "
    "next section) does not help: both cores are busy throughout with one. Measured "
    "alone in the eighth session and not done (`## ingestion experiments`): a chunk's "
    "products validated in the same pass as the chunk (5.6 to 6.1 µs a row against 6.2 "
    "to 6.6: too little for a payload type per worker in the runtime); SQLite without "
    "rowid, with 8 KB pages, a 512 MB cache or memory-mapped (within the spread); the "
    "tracker's outcome decoding without `__post_init__`, with plain datetimes or with "
    "the status as text (within a tenth). Tried in the bench and left out: up to four of "
    "the reader's batches queued in the planner instead of one, so that the reader "
    "waits less on a planner awaiting the broker's confirmation (three alternating "
    "pairs: 1.90, 1.76 and 1.77 with one, 1.81, 1.95 and 1.84 with four); the document "
    "reader scheduled as a batch process (`SCHED_BATCH`: longer time slices; 1.75, 1.85 "
    "and 1.89 without, 1.76, 1.92 and 1.78 with).",
    "",
    "Where it stands: all three files meet the goal; the CSV with less room than the "
    "others. Five-round CSV medians of the final code: 1.79 (the table above: runs 1.81, "
    "1.78, 1.79, 1.92 and 1.77), 1.87 (`uv run python -m bench.ingestion --only csv "
    "--runs 5 --no-write`: 1.87, 1.78, 2.03, 1.87 and 1.80, 3.24 parses of CPU) and 2.02 "
    "(an earlier `uv run python -m bench.ingestion --runs 5`, in the session's first "
    "forty minutes, a slow phase of the machine where the processes used 3.65 parses: 2.03, "
    "2.10, 2.02, 1.79 and 1.92); with two worker replicas 1.94 (three rounds). Over the "
    "eighth session's 25 single runs of the final code with one worker: 1.75 to 2.10, "
    "median 1.81, four over 2, all four in those first forty minutes (the seventh session's "
    "27: 1.70 to 2.46, median 1.97, 13 over 2). The machine's speed still drifts (the "
    "CSV's parse 3.4 to 5.7 s this session, 1.9 s in the sixth): in slower phases the "
    "services lose more than the parse alone does. What is left to take, each a "
    "twentieth or less of all the CPU: the worker's product validation (a fifth of its "
    "event loop), the catalog's SQLite writes (a third of the worker's CPU, a third of "
    "that the brand index the product list's filter needs), the tracker's decoding and "
    "item documents, the reader's items.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--only", choices=["csv", "xlsx", "pdf"], action="append")
    parser.add_argument("--replicas", type=int, default=1, help="ingestion worker processes")
    parser.add_argument("--runs", type=int, default=3, help="rounds over the files (median)")
    parser.add_argument("--no-write", action="store_true", help="leave docs/benchmarks.md alone")
    args = parser.parse_args()
    kinds = args.only or ["csv", "xlsx", "pdf"]
    with tempfile.TemporaryDirectory(prefix="bench-ingestion-") as tmp:
        folder = Path(tmp)
        files = prepare(kinds, args.rows, args.pages, folder)
        rounds = [run_round(files, folder / f"round-{n}", args.replicas) for n in range(args.runs)]
    print(table(rounds))
    print(cpu_table(rounds))
    if not args.no_write:
        command = " ".join(["uv run python -m bench.ingestion", *sys.argv[1:]])
        write_section(rounds, command, args.replicas)


if __name__ == "__main__":
    main()
