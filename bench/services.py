"""What the end-to-end benchmarks share: the services as child processes, started exactly as
in production (`python -m <module>`, configured only through `JOBS_*`) on the caller's
fresh vhost and SQLite file, a token to call them with, and the line that says where and
how a result was measured."""

import asyncio
import contextlib
import os
import platform
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from gateway.auth import mint_token
from tests.support.processes import free_port

READY_SECONDS = 60.0
STOP_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Service:
    module: str
    port: int
    pid: int


@asynccontextmanager
async def running_services(
    amqp_url: str, folder: Path, secret: str, modules: Sequence[str]
) -> AsyncIterator[list[Service]]:
    """One child process per entry of `modules` (a module may repeat: replicas), sharing
    `folder/jobs.db` and `folder/blobs`, each with a health port of its own; yields them,
    in order, once every one says it is ready."""
    env = {
        **os.environ,
        "JOBS_AMQP_URL": amqp_url,
        "JOBS_STORE_URL": f"sqlite:///{folder / 'jobs.db'}",
        "JOBS_BLOB_DIR": str(folder / "blobs"),
        "JOBS_JWT_SECRET": secret,
        "JOBS_LOG_LEVEL": "WARNING",
    }
    ports = [free_port() for _ in modules]
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, env={**env, "JOBS_HTTP_PORT": str(port)}
        )
        for module, port in zip(modules, ports, strict=True)
    ]
    try:
        for module, port, process in zip(modules, ports, processes, strict=True):
            await _wait_ready(module, port, process)
        yield [
            Service(module, port, process.pid)
            for module, port, process in zip(modules, ports, processes, strict=True)
        ]
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
        for process in processes:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), STOP_SECONDS)


async def _wait_ready(name: str, port: int, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"{name} exited while starting")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{name} did not become ready within {READY_SECONDS:.0f} s")


def bench_token(secret: str, tenant: str) -> str:
    return mint_token(
        secret,
        sub="bench",
        tenant=tenant,
        email="bench@example.test",
        roles=[],
        ttl=timedelta(hours=2),
    )


def measured_on(command: str) -> str:
    """ "`command` — date, cores, CPU check, Python, SQLite and RabbitMQ versions": a result's
    first line."""
    rabbit = subprocess.run(
        ["rabbitmqctl", "-q", "version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return (
        f"`{command}` — {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores "
        f"(CPU check {cpu_check_seconds():.2f} s), "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"RabbitMQ {rabbit or '?'}."
    )


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user and system, every thread) process `pid` has used so far, from /proc:
    steadier than wall time for comparing two versions of a service on these shared cores."""
    return _stat(pid)[0]


def tree_cpu_seconds(pid: int) -> float:
    """`cpu_seconds` of `pid` and of every process under it: those running, and those ended
    and reaped by one of them (the ingestion worker's document readers are forked, and
    reaped, by its fork server)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError):
                children.setdefault(_parent(int(entry.name)), []).append(int(entry.name))

    def below(parent: int) -> float:
        total = 0.0
        for child in children.get(parent, []):
            with contextlib.suppress(OSError):
                own, reaped = _stat(child)
                total += own + reaped + below(child)
        return total

    own, reaped = _stat(pid)
    return own + reaped + below(pid)


def _stat(pid: int) -> tuple[float, float]:
    """(CPU seconds of the process itself, of its ended children it reaped), from /proc."""
    fields = _stat_fields(pid)
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


def _parent(pid: int) -> int:
    return int(_stat_fields(pid)[1])


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat's fields after the command name (which may hold spaces)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def stolen_seconds() -> float:
    """CPU seconds the hypervisor has given other guests while this machine's cores wanted
    to run (`steal` in /proc/stat, all cores together) since boot: on these virtual machines
    it comes in bursts, and a run it hits is slower for it however good the code."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK")


CPU_CHECK_ROUNDS = 2_000_000


def cpu_check_seconds() -> float:
    """Seconds for a fixed pure-Python loop, the best of five: how fast this machine ran
    Python when the result was taken. These machines' speed varies between sessions (the
    same code measured 2 to 4 times slower on some days), so only results with similar
    checks compare."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        table: dict[int, int] = {}
        for n in range(CPU_CHECK_ROUNDS):
            table[n & 1023] = table.get(n & 1023, 0) + n
        best = min(best, time.perf_counter() - started)
    return best
