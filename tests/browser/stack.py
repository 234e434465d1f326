"""The whole system for the browser tests, on the session's RabbitMQ vhost, one SQLite file
and one blob directory:

- the gateway as its own process, `python -m gateway` (uvicorn on a free port, exactly as
  `jobs-gateway` runs it), so the browser talks to a real HTTP and WebSocket server;
- the tracker and the workers (`workers.py`) in the test's event loop.

The worker queues are purged before and after: the vhost is shared with other suites,
and a `RunJob` one of them left must not reach these workers, nor one of ours theirs.
The gateway can be killed and started again on its port, as a crash and a restart would.
"""

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from jobs_shared.contracts import JobType, SubmitJob
from jobs_shared.topology import CONSUMER_QUEUES, declare_topology
from tests.browser.workers import ingestion_runtime, sleepy_runtime
from tests.support.gateway import SECRET, bearer, token
from tests.support.processes import ROOT, ServiceProcess, free_port
from tests.support.tracker import Bus, running_tracker

TENANT = "acme"
EMAIL = "alice@acme.test"


@dataclass
class BrowserStack:
    bus: Bus
    gateway: ServiceProcess
    gateway_environment: dict[str, str]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway.port}"

    async def stop_gateway(self) -> None:
        await self.gateway.stop()

    async def restart_gateway(self) -> None:
        """Start the gateway again on its port (after `gateway.kill()`), and wait until ready."""
        self.gateway = _spawn_gateway(self.gateway_environment, self.gateway.port, self.gateway.log)
        await self.gateway.ready()

    def login_url(self, tenant: str = TENANT, email: str = EMAIL) -> str:
        return f"{self.base_url}/login?token={token(tenant=tenant, email=email)}"

    def client(self, tenant: str = TENANT, email: str = EMAIL) -> httpx.AsyncClient:
        """An API client of the gateway as `tenant`'s `email` (close it after use)."""
        return httpx.AsyncClient(
            base_url=f"{self.base_url}/api/v1",
            headers=bearer(token(tenant=tenant, email=email)),
            timeout=10,
        )

    async def submit_sleepy(
        self, items: int, item_ms: int, tenant: str = TENANT, email: str = EMAIL
    ) -> str:
        """A job of the sleepy worker (`export` type, submitted over AMQP as another
        MerchantOps service would): `items` items of `item_ms` each. Returns its id."""
        job_id = uuid.uuid4().hex
        command = SubmitJob(
            job_id=job_id,
            tenant=tenant,
            user_email=email,
            user_id=f"user:{email}",
            params={"items": items, "item_ms": item_ms},
        )
        await self.bus.submit(JobType.EXPORT, command)
        return job_id


@asynccontextmanager
async def running_browser_stack(amqp_url: str, root: Path) -> AsyncIterator[BrowserStack]:
    store_url = f"sqlite:///{root / 'jobs.db'}"
    blob_dir = root / "blobs"
    await declare_topology(amqp_url)
    async with AsyncExitStack() as stack:
        bus = await stack.enter_async_context(Bus.connect(amqp_url))
        queues = [
            name for queue in CONSUMER_QUEUES for name in (queue.name, queue.dead_letter_name)
        ]
        await bus.purge(*queues)
        stack.push_async_callback(bus.purge, *queues)
        await stack.enter_async_context(running_tracker(amqp_url, store_url))
        for runtime in (
            ingestion_runtime(amqp_url, store_url, blob_dir),
            sleepy_runtime(amqp_url, store_url),
        ):
            await runtime.start()
            stack.push_async_callback(runtime.stop)
        environment = {
            "JOBS_AMQP_URL": amqp_url,
            "JOBS_STORE_URL": store_url,
            "JOBS_BLOB_DIR": str(blob_dir),
            "JOBS_JWT_SECRET": SECRET,
            "JOBS_LOG_LEVEL": "WARNING",
        }
        gateway = _spawn_gateway(environment, free_port(), root / "gateway.log")
        running = BrowserStack(bus, gateway, environment)
        stack.push_async_callback(running.stop_gateway)
        await gateway.ready()
        yield running


def _spawn_gateway(environment: dict[str, str], port: int, log: Path) -> ServiceProcess:
    """`python -m gateway` on `port`, its output appended to `log`."""
    with log.open("ab") as output:  # the child holds its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway"],
            cwd=ROOT,
            env={**os.environ, **environment, "JOBS_HTTP_PORT": str(port)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return ServiceProcess("gateway", process, port, log)
