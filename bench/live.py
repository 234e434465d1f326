"""What the live-update benchmarks share: a WebSocket client's subscribe, latency
percentiles, and a sampler of a child process's CPU and memory."""

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil
from websockets.asyncio.client import ClientConnection

Message = dict[str, Any]


def ws_url(port: int, token: str) -> str:
    return f"ws://127.0.0.1:{port}/api/v1/ws?token={token}"


async def wait_for_jobs(port: int, token: str, job_ids: list[str], total: bool = True) -> None:
    """Until the gateway shows each job (with its total, if `total`): the tracker folded
    what the benchmark published to start them."""
    async with (
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}
        ) as http,
        asyncio.timeout(60),
    ):
        for job_id in job_ids:
            while True:
                response = await http.get(f"/api/v1/jobs/{job_id}")
                if response.status_code == 200 and (response.json()["total_items"] or not total):
                    break
                await asyncio.sleep(0.05)


async def subscribe(connection: ClientConnection, **target: Any) -> Message:
    """Send a subscribe and return its snapshot (reading nothing else meanwhile)."""
    await connection.send(json.dumps({"op": "subscribe", "ref": "bench", **target}))
    async with asyncio.timeout(30):
        while True:
            message: Message = json.loads(await connection.recv())
            if message.get("ref") == "bench":
                if message["op"] != "snapshot":
                    raise RuntimeError(f"subscribe refused: {message}")
                return message


@dataclass(frozen=True, slots=True)
class Percentiles:
    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> "Percentiles":
        ordered = sorted(values)
        if not ordered:
            return cls(0, float("nan"), float("nan"), float("nan"), float("nan"))

        def at(q: float) -> float:
            return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

        return cls(len(ordered), at(0.50), at(0.95), at(0.99), ordered[-1])

    def ms(self) -> str:
        """`p50 / p95 / p99 / max` in milliseconds."""
        return " / ".join(f"{v * 1000:.0f}" for v in (self.p50, self.p95, self.p99, self.max))


@dataclass
class Usage:
    """CPU (percent of one core) and RSS (MiB) of one process, sampled every `every` s."""

    pid: int
    every: float = 0.5
    samples: list[tuple[float, float, float]] = field(default_factory=list)
    """(time.monotonic(), CPU % since the previous sample, RSS MiB)."""

    async def run(self) -> None:
        process = psutil.Process(self.pid)
        process.cpu_percent()  # the first call only sets the baseline
        while True:
            await asyncio.sleep(self.every)
            rss = process.memory_info().rss / 2**20
            self.samples.append((time.monotonic(), process.cpu_percent(), rss))

    def between(self, start: float, end: float) -> tuple[float, float]:
        """Mean CPU % and peak RSS MiB over samples taken in [start, end]."""
        window = [(cpu, rss) for at, cpu, rss in self.samples if start <= at <= end]
        if not window:
            return float("nan"), float("nan")
        return sum(cpu for cpu, _ in window) / len(window), max(rss for _, rss in window)
