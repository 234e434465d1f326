"""Services as real OS processes, for fault tests: start replicas, wait until each is ready,
`kill -9` one, and never leave one behind. Every wait is bounded.

Each process is `python -m <module>` with the test's `JOBS_*` environment, a health port
of its own (`JOBS_HTTP_PORT`), its name in `REPLICA_VARIABLE` and its output in a log
file, whose tail a failure shows.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.tracker import wait_until

ROOT = Path(__file__).resolve().parents[2]
REPLICA_VARIABLE = "JOBS_TEST_REPLICA"
READY_SECONDS = 30.0
STOP_SECONDS = 15.0


@dataclass
class ServiceProcess:
    name: str
    process: "subprocess.Popen[bytes]"
    port: int
    log: Path

    async def ready(self) -> None:
        """Wait until its `/readyz` says ready (broker connected, store answering)."""
        async with httpx.AsyncClient(timeout=2) as http:

            async def answers() -> bool:
                if self.process.poll() is not None:
                    raise AssertionError(f"{self.name} exited:\n{self.tail()}")
                try:
                    response = await http.get(f"http://127.0.0.1:{self.port}/readyz")
                except httpx.TransportError:
                    return False
                return response.status_code == 200

            await wait_until(answers, f"{self.name} is ready", READY_SECONDS)

    def kill(self) -> None:
        """`kill -9`: no drain, no hand-back, unacked messages go back to their queues."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=STOP_SECONDS)

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `STOP_SECONDS`."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            await wait_until(lambda: self.process.poll() is not None, "exit", STOP_SECONDS)
        except AssertionError:
            self.kill()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Replicas:
    """Replicas of one service module, all sharing `environment`."""

    module: str
    environment: dict[str, str]
    log_dir: Path
    started: list[ServiceProcess] = field(default_factory=list)

    def spawn(self, name: str, **extra: str) -> ServiceProcess:
        port = free_port()
        log = self.log_dir / f"{name}.log"
        environment = {
            **os.environ,
            **self.environment,
            **extra,
            "JOBS_HTTP_PORT": str(port),
            REPLICA_VARIABLE: name,
        }
        with log.open("wb") as output:  # the child holds its own copy of the descriptor
            process = subprocess.Popen(
                [sys.executable, "-m", self.module],
                cwd=ROOT,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        replica = ServiceProcess(name, process, port, log)
        self.started.append(replica)
        return replica

    async def start(self, *names: str, **extra: str) -> list[ServiceProcess]:
        """Spawn one replica per name (at once: they import in parallel), wait until ready."""
        replicas = [self.spawn(name, **extra) for name in names]
        await asyncio.gather(*(replica.ready() for replica in replicas))
        return replicas


@asynccontextmanager
async def replicas(
    module: str, environment: dict[str, str], log_dir: Path
) -> AsyncIterator[Replicas]:
    """Replicas of `module`; whatever still runs at the end is stopped."""
    group = Replicas(module, environment, log_dir)
    try:
        yield group
    finally:
        await asyncio.gather(*(replica.stop() for replica in group.started))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
