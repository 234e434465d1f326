"""Rows per second of document ingestion end to end, next to the raw parse of the same file.

    uv run python -m bench.ingestion [--rows 100000] [--pages 100] [--only csv|xlsx|pdf]
        [--no-write]

Three generated files: a CSV and an XLSX of `--rows` product rows (SKU, title,
description, price, currency, brand, category, a valid EAN-13, image URL, colour) and a
PDF of `--pages` pages, each with a ruled line-item table. For each, `raw` is
`read_document` over the file alone, in this process; `end to end` runs from the start
of the upload (`POST /api/v1/documents`) until the store shows the job `completed` with
every row counted (polled every 20 ms): upload, blob store, submit, the tracker's fold,
the worker's plan and chunks over RabbitMQ, catalog upserts and outcome reports. The
services run as child processes exactly as in production (`python -m job_tracker`,
`python -m ingestion`, `python -m gateway`) on a fresh RabbitMQ vhost, one SQLite file
and a blob directory in a temporary folder; they share the machine's cores with RabbitMQ
and this process. Goal: end to end at most twice the raw parse (ratio <= 2).

Prints a table and replaces the `## ingestion` section of docs/benchmarks.md. Run it
from the repository root as a module (it borrows the tests' vhost and PDF helpers), and
not beside the test suite.
"""

import argparse
import asyncio
import csv
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pymupdf
import xlsxwriter
from tqdm import tqdm

from bench.sections import replace_section
from bench.services import bench_token, measured_on, running_services
from ingestion import read_document
from jobs_shared.contracts import TERMINAL_JOB_STATUSES, JobStatus
from jobs_shared.store.sqlite import SqliteJobStore
from tests.support.rabbit import temporary_vhost
from tests.unit.ingestion.builders import ruled_table_pdf

GOAL_RATIO = 2.0
TENANT = "bench"
POLL_SECONDS = 0.02
HEADER = ["SKU", "Title", "Description", "Price", "Currency", "Brand", "Category", "EAN"]
HEADER += ["Image URL", "Colour"]
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
    raw_seconds: float
    end_to_end_seconds: float

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
    started = time.perf_counter()
    rows = sum(1 for _ in tqdm(read_document(path), desc=f"parse {path.suffix}", leave=False))
    return rows, time.perf_counter() - started


# --- measuring -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prepared:
    kind: str
    path: Path
    data: bytes
    rows: int
    raw_seconds: float


def prepare(kinds: list[str], rows: int, pages: int, folder: Path) -> list[Prepared]:
    """Write each file and time its raw parse (before any service runs)."""
    writers = {
        "csv": lambda path: write_csv(path, rows),
        "xlsx": lambda path: write_xlsx(path, rows),
        "pdf": lambda path: write_pdf(path, pages),
    }
    prepared = []
    for kind in kinds:
        path = folder / f"products.{kind}"
        writers[kind](path)
        count, seconds = raw_parse(path)
        prepared.append(Prepared(kind, path, path.read_bytes(), count, seconds))
    return prepared


async def end_to_end(gateway: httpx.AsyncClient, store: SqliteJobStore, file: Prepared) -> float:
    started = time.perf_counter()
    response = await gateway.post(
        "/api/v1/documents",
        files={"file": (file.path.name, file.data, MEDIA_TYPES[file.kind])},
    )
    response.raise_for_status()
    job_id = response.json()["id"]
    with tqdm(total=file.rows, desc=f"end to end {file.kind}", unit="row", leave=False) as bar:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            job = await store.get_job(TENANT, job_id)
            if job is not None:
                bar.update(job.processed_items + job.failed_items - bar.n)
                if job.status in TERMINAL_JOB_STATUSES:
                    elapsed = time.perf_counter() - started
                    if (job.status, job.processed_items) != (JobStatus.COMPLETED, file.rows):
                        raise AssertionError(
                            f"{file.kind}: {job.status} with {job.processed_items} of "
                            f"{file.rows} rows ({job.error})"
                        )
                    return elapsed
            await asyncio.sleep(POLL_SECONDS)
    raise TimeoutError(f"the {file.kind} job did not end within 900 s")


async def measure(files: list[Prepared], folder: Path, replicas: int) -> list[Result]:
    secret = secrets.token_urlsafe(32)
    token = bench_token(secret, TENANT)
    results = []
    modules = ["job_tracker", "gateway", *["ingestion"] * replicas]
    with temporary_vhost("jobs-bench-ingestion") as amqp_url:
        async with running_services(amqp_url, folder, secret, modules) as services:
            port = services[1].port
            store = SqliteJobStore(folder / "jobs.db")
            await store.open()
            try:
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port}",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=120,
                ) as gateway:
                    for file in files:
                        seconds = await end_to_end(gateway, store, file)
                        results.append(
                            Result(file.kind, file.rows, len(file.data), file.raw_seconds, seconds)
                        )
            finally:
                await store.close()
    return results


# --- reporting -------------------------------------------------------------------------


def table(results: list[Result]) -> str:
    lines = [
        "| file | rows | size | raw parse s (rows/s) | end to end s (rows/s) | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.kind} | {r.rows:,} | {r.size_bytes / 1e6:.1f} MB "
            f"| {r.raw_seconds:.2f} ({r.rows / r.raw_seconds:,.0f}) "
            f"| {r.end_to_end_seconds:.2f} ({r.rows / r.end_to_end_seconds:,.0f}) "
            f"| {r.ratio:.2f}{'' if r.ratio <= GOAL_RATIO else ' (over the goal)'} |"
        )
    return "\n".join(lines)


def write_section(results: list[Result], command: str, replicas: int) -> None:
    body = "\n".join(
        [
            measured_on(command),
            "",
            "Generated files: CSV and XLSX of product rows (10 columns), a PDF of ruled "
            "invoice tables (22 lines a page). `raw parse` is `read_document` over the file "
            "alone; `end to end` runs from the start of the upload until the store shows the "
            "job completed with every row counted: upload and blob store, submit, tracker, "
            "the worker's plan and chunks over RabbitMQ, catalog upserts, outcome reports. "
            "Services run as child processes (`python -m job_tracker`, `python -m ingestion`, "
            "`python -m gateway`) on a fresh vhost and SQLite file, sharing the two cores "
            f"with RabbitMQ; {replicas} ingestion worker process(es). "
            f"Goal: ratio (end to end / raw parse) <= {GOAL_RATIO:g}.",
            "",
            table(results),
            "",
            "Where the time goes (100,000-row CSV, CPU seconds of each process read from /proc, "
            "and py-spy on the worker): on the first session's machine the ingestion worker "
            "used about 7.5, the tracker 2.5, the gateway 0.8 (receiving the 21 MB upload), "
            "RabbitMQ 0.5; on the second session's slower machine 25 to 27, 6.5 to 7, 3 to 3.6 "
            "and 1 to 2 (`ingestion experiments` below); on the third session's (CPU check "
            "0.19 s, before this session's tracker changes) 15.6, 3.3, 1.9 and 2.5. "
            "The worker is the critical path every time, at five to seven times the parse's "
            "CPU per row. On the first machine, "
            "per row it parses (13 µs), builds the item and its JSON (8 µs), publishes and decodes "
            "it in a chunk (4 µs), validates the product (4 µs), writes it to SQLite "
            "(15 µs, in aiosqlite's thread) and reports its outcome (5 µs), plus asyncio, "
            "AMQP framing and collector time; the tracker folds it in another process "
            "(20 µs). A PDF row costs far more to parse than to track, so its ratio is near "
            "1; a CSV row is parsed so cheaply that the ratio stays above the goal.",
            "",
            "What changed it (CSV, 100,000 rows, first machine): one item at a time, each upsert "
            "its own commit, 26.6 s (ratio 20); `BatchWorker` — a chunk of 1,000 rows processed "
            "in one call and written in one transaction, outcomes 1,000 per message — 14.1 s; the"
            " collector tuned in `run_worker` (frozen start-up heap, young collections every "
            "50,000 allocations) and the product sent as one JSON string inside the item "
            "(pydantic reads it straight into the model instead of building a dict when the chunk"
            " is decoded) 8.5 to 10.5 s over several runs. A catalog in a SQLite file of its own "
            "(no write lock shared with the tracker) made no measurable difference, so the "
            "catalog stays in the jobs' file. A second worker replica (`--replicas 2`, CSV only) "
            "took the CSV to 7.2 s (ratio 5.3): the two cores, not one process, are the limit. "
            "Left: the per-row cost of pydantic models (item, product, outcome) and of the item "
            "and outcome messages themselves; reaching 2 for CSV would mean writing products "
            "while planning, without items per row, which would give up per-row status, errors "
            "and retry.",
        ]
    )
    replace_section("ingestion", body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--only", choices=["csv", "xlsx", "pdf"], action="append")
    parser.add_argument("--replicas", type=int, default=1, help="ingestion worker processes")
    parser.add_argument("--no-write", action="store_true", help="leave docs/benchmarks.md alone")
    args = parser.parse_args()
    kinds = args.only or ["csv", "xlsx", "pdf"]
    with tempfile.TemporaryDirectory(prefix="bench-ingestion-") as tmp:
        folder = Path(tmp)
        files = prepare(kinds, args.rows, args.pages, folder)
        results = asyncio.run(measure(files, folder, args.replicas))
    print(table(results))
    if not args.no_write:
        command = " ".join(["uv run python -m bench.ingestion", *sys.argv[1:]])
        write_section(results, command, args.replicas)


if __name__ == "__main__":
    main()
