"""Latency of the job list over 1,000,000 jobs in SQLite: the store alone, then through HTTP.

    uv run python -m bench.list_query [--jobs 1000000] [--samples 200] [--no-http]

Seeds the jobs once into bench/results/list_query-<jobs>.db (reused while its sidecar
says it holds the same data set), then times `list_jobs` for each filter and
combination the UI offers, on the largest tenant (a fifth of all jobs, the worst case),
with a fresh random filter value per sample. When the gateway is there, the same
queries go through `GET /api/v1/jobs` on a real `jobs-gateway` process. Prints a table,
writes bench/results/list_query.json and replaces the `## list_query` section of
docs/benchmarks.md. Target: p95 ≤ 50 ms.
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from tqdm import tqdm

from bench.sections import replace_section
from bench.services import measured_on
from jobs_shared.contracts import JobStatus, JobType
from jobs_shared.domain.state import JobState
from jobs_shared.store import JobCursor, JobQuery
from jobs_shared.store.documents import iso
from jobs_shared.store.sqlite import SqliteJobStore
from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SEED_VERSION = 1
"""Bump when the generated data set changes, so an old seeded file is not reused."""

TENANTS = [f"t{n:02d}" for n in range(20)]
TENANT_WEIGHTS = [16, *[1] * 19]
"""t00 holds 16/35 of the jobs (~457k of 1M): the biggest merchant is the worst case."""
USERS_PER_TENANT = 10
STATUS_WEIGHTS = {
    JobStatus.COMPLETED: 55,
    JobStatus.PARTIAL_SUCCESS: 12,
    JobStatus.FAILED: 10,
    JobStatus.CANCELLED: 5,
    JobStatus.IN_PROGRESS: 10,
    JobStatus.PENDING: 8,
}
HISTORY_START = datetime(2024, 1, 1, tzinfo=UTC)
HISTORY = timedelta(days=730)
WINDOW = timedelta(days=30)
TARGET_TENANT = TENANTS[0]
PAGE = 50
BATCH = 20_000
SECRET = "bench-list-query-secret-0123456789abcdef"


def users(tenant: str) -> list[str]:
    return [f"user{n}@{tenant}.example" for n in range(USERS_PER_TENANT)]


# --- seeding ---------------------------------------------------------------------------


def generated_jobs(count: int) -> Iterator[JobState]:
    """`count` jobs in creation order, as a store fills up over two years."""
    rng = random.Random(42)
    offsets = sorted(rng.random() for _ in range(count))
    tenants = rng.choices(TENANTS, TENANT_WEIGHTS, k=count)
    statuses = rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()), k=count)
    for offset, tenant, status in zip(offsets, tenants, statuses, strict=True):
        created = HISTORY_START + HISTORY * offset
        total = rng.randrange(1, 5000)
        done = total if status != JobStatus.IN_PROGRESS else rng.randrange(total)
        yield JobState(
            id=f"{rng.getrandbits(128):032x}",
            type=rng.choice(list(JobType)),
            tenant=tenant,
            created_at=created,
            updated_at=created,
            status=status,
            submitted=True,
            user_email=rng.choice(users(tenant)),
            params={"product_ids": [f"p{rng.randrange(10**6)}"]},
            metadata={"file": "products.csv"},
            started_at=created,
            total_items=total,
            total_final=True,
            processed_items=done,
        )


async def seed(path: Path, count: int) -> None:
    """Fill `path` through the store's own write path, unless an earlier run already did."""
    sidecar = path.with_suffix(".seed.json")
    wanted = json.dumps({"jobs": count, "version": SEED_VERSION})
    if _seeded(path, sidecar, wanted):
        print(f"reusing {path.relative_to(ROOT)} ({count:,} jobs)")
        return
    store = SqliteJobStore(path)
    await store.open()
    started = time.perf_counter()
    with tqdm(total=count, unit="job", desc="seeding") as progress:
        batch: list[JobState] = []
        for job in generated_jobs(count):
            batch.append(job)
            if len(batch) == BATCH:
                await store.save_fold(batch, [])
                progress.update(len(batch))
                batch = []
        await store.save_fold(batch, [])
        progress.update(len(batch))
    await store.close()
    sidecar.write_text(wanted)
    print(f"seeded {count:,} jobs in {time.perf_counter() - started:.0f} s")


def _seeded(path: Path, sidecar: Path, wanted: str) -> bool:
    """Whether `path` holds the `wanted` data set; if not, clears what is there."""
    if path.exists() and sidecar.exists() and sidecar.read_text() == wanted:
        return True
    for stale in (path, sidecar, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    return False


# --- the queries -----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    query: Callable[[random.Random], JobQuery]
    second_page: bool = False


def _types(rng: random.Random, k: int = 1) -> frozenset[JobType]:
    return frozenset(rng.sample(list(JobType), k))


def _statuses(rng: random.Random, k: int = 1) -> frozenset[JobStatus]:
    return frozenset(rng.sample(list(JobStatus), k))


def _user(rng: random.Random) -> str:
    return rng.choice(users(TARGET_TENANT))


def _in_window(rng: random.Random, query: JobQuery) -> JobQuery:
    """`query` limited to a random 30-day window of the history."""
    start = HISTORY_START + (HISTORY - WINDOW) * rng.random()
    return replace(query, created_from=start, created_to=start + WINDOW)


def _all_four(rng: random.Random) -> JobQuery:
    query = JobQuery(types=_types(rng), statuses=_statuses(rng), user_email=_user(rng))
    return _in_window(rng, query)


CASES = [
    Case("no filter", lambda rng: JobQuery()),
    Case("type", lambda rng: JobQuery(types=_types(rng))),
    Case("status", lambda rng: JobQuery(statuses=_statuses(rng))),
    Case("user", lambda rng: JobQuery(user_email=_user(rng))),
    Case("date range (30 days)", lambda rng: _in_window(rng, JobQuery())),
    Case("type+status", lambda rng: JobQuery(types=_types(rng), statuses=_statuses(rng))),
    Case("status+user", lambda rng: JobQuery(statuses=_statuses(rng), user_email=_user(rng))),
    Case(
        "type+status+date range",
        lambda rng: _in_window(rng, JobQuery(types=_types(rng), statuses=_statuses(rng))),
    ),
    Case("all four", _all_four),
    Case(
        "2 types + 3 statuses",
        lambda rng: JobQuery(types=_types(rng, 2), statuses=_statuses(rng, 3)),
    ),
    Case("second page (no filter)", lambda rng: JobQuery(), second_page=True),
    Case(
        "second page (type+status)",
        lambda rng: JobQuery(types=_types(rng), statuses=_statuses(rng)),
        second_page=True,
    ),
]

Lister = Callable[[JobQuery, str | None], Awaitable[tuple[int, str | None]]]
"""Lists one page (query, cursor) and returns (jobs on the page, the next page's cursor)."""


async def measure(lister: Lister, samples: int, label: str) -> dict[str, dict[str, float]]:
    """Per case: p50/p95/p99 in ms over `samples` random instances, after a short warm-up."""
    rng = random.Random(7)
    results = {}
    for case in tqdm(CASES, desc=label, unit="case"):
        queries = [case.query(rng) for _ in range(samples)]
        for query in queries[:5]:
            await lister(query, None)
        timings, rows = [], 0
        for query in queries:
            cursor = (await lister(query, None))[1] if case.second_page else None
            if case.second_page and cursor is None:
                continue
            started = time.perf_counter()
            count, _ = await lister(query, cursor)
            timings.append((time.perf_counter() - started) * 1000)
            rows += count
        results[case.name] = _percentiles(timings) | {"mean_rows": rows / max(len(timings), 1)}
    return results


def _percentiles(timings: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    return {"samples": len(timings), "p50": cuts[49], "p95": cuts[94], "p99": cuts[98]}


def store_lister(store: SqliteJobStore) -> Lister:
    async def list_page(query: JobQuery, cursor: str | None) -> tuple[int, str | None]:
        after = None
        if cursor is not None:
            created_at, job_id = cursor.split("|")
            after = JobCursor(datetime.fromisoformat(created_at), job_id)
        jobs = await store.list_jobs(TARGET_TENANT, query, PAGE, after)
        last = f"{iso(jobs[-1].created_at)}|{jobs[-1].id}" if len(jobs) == PAGE else None
        return len(jobs), last

    return list_page


def http_lister(client: httpx.AsyncClient) -> Lister:
    async def list_page(query: JobQuery, cursor: str | None) -> tuple[int, str | None]:
        params: list[tuple[str, str]] = [("limit", str(PAGE))]
        params += [("type", t.value) for t in sorted(query.types)]
        params += [("status", s.value) for s in sorted(query.statuses)]
        if query.user_email:
            params.append(("user", query.user_email))
        for name in ("created_from", "created_to"):
            moment = getattr(query, name)
            if moment is not None:
                params.append((name, iso(moment)))
        if cursor is not None:
            params.append(("cursor", cursor))
        response = await client.get("/api/v1/jobs", params=tuple(params))
        response.raise_for_status()
        page: dict[str, Any] = response.json()
        return len(page["jobs"]), page["next_cursor"]

    return list_page


# --- the gateway -----------------------------------------------------------------------


def gateway_present() -> bool:
    try:
        from gateway.app import create_app  # noqa: F401
    except ImportError:
        return False
    return True


@asynccontextmanager
async def running_gateway(db: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A real `jobs-gateway` process on the seeded file, and a client holding a user's token."""
    port = free_port()
    env = os.environ | {
        "JOBS_STORE_URL": f"sqlite:///{db}",
        "JOBS_JWT_SECRET": SECRET,
        "JOBS_HTTP_PORT": str(port),
        "JOBS_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec("uv", "run", "jobs-gateway", cwd=ROOT, env=env)
    claims = {
        "sub": "bench",
        "email": users(TARGET_TENANT)[0],
        "tenant": TARGET_TENANT,
        "roles": [],
        "exp": datetime.now(UTC) + timedelta(hours=1),
    }
    headers = {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30
        ) as client:
            await _wait_until_up(client, process)
            yield client
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)


async def _wait_until_up(client: httpx.AsyncClient, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"jobs-gateway exited with {process.returncode}")
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("jobs-gateway did not answer /healthz within 60 s")


# --- reporting -------------------------------------------------------------------------


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    layers = list(results)
    header = "| query | " + " | ".join(f"{layer} p50 / p95 / p99 (ms)" for layer in layers)
    lines = [header + " | rows |", "|---|" + "---|" * len(layers) + "---|"]
    for case in CASES:
        cells = [
            "{p50:.1f} / {p95:.1f} / {p99:.1f}".format(**results[layer][case.name])
            for layer in layers
        ]
        rows = results[layers[0]][case.name]["mean_rows"]
        lines.append(f"| {case.name} | " + " | ".join(cells) + f" | {rows:.0f} |")
    return "\n".join(lines)


def write_section(command: str, results: dict[str, dict[str, dict[str, float]]], jobs: int) -> None:
    body = "\n".join(
        [
            measured_on(command),
            "",
            f"{jobs:,} jobs (20 tenants, 4 types, 6 statuses, 200 users, two years); every query"
            f" is on the largest tenant (~{jobs * 16 // 35:,} jobs), page size {PAGE}, a fresh"
            " random filter value per sample. `store` is `SqliteJobStore.list_jobs`; `http` is"
            " `GET /api/v1/jobs` on a `jobs-gateway` process over loopback. Target: p95 ≤ 50 ms."
            " `rows`: mean jobs per page.",
            "",
            table(results),
        ]
    )
    replace_section("list_query", body)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--no-http", action="store_true", help="measure the store only")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    db = RESULTS / f"list_query-{args.jobs}.db"
    await seed(db, args.jobs)

    results: dict[str, dict[str, dict[str, float]]] = {}
    store = SqliteJobStore(db)
    await store.open()
    try:
        results["store"] = await measure(store_lister(store), args.samples, "store")
    finally:
        await store.close()
    if not args.no_http and gateway_present():
        async with running_gateway(db) as client:
            results["http"] = await measure(http_lister(client), args.samples, "http")

    command = " ".join(["uv run python -m bench.list_query", *sys.argv[1:]])
    print(table(results))
    (RESULTS / "list_query.json").write_text(
        json.dumps({"command": command.strip(), "jobs": args.jobs, "results": results}, indent=2)
    )
    write_section(command.strip(), results, args.jobs)


if __name__ == "__main__":
    asyncio.run(main())
