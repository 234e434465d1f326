"""Run every MerchantOps Jobs service as its own process, with their logs interleaved.

Each service is started exactly as production would start it (its own module, its own
port, configuration only through `JOBS_*`), so what works here works apart too.
"""

import asyncio
import contextlib
import os
import signal
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from jobs_shared.settings import Settings

VAR_DIR = Path("var")
READY_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    module: str
    port: int


SERVICES = (
    Service("job-tracker", "job_tracker", 8001),
    Service("gateway", "gateway", 8000),
    Service("ingestion", "ingestion", 8002),
)

_COLOURS = ("36", "35", "33", "32", "34", "31")


def main() -> None:
    settings = Settings()
    env = _stack_environment(settings)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(env, settings))


def _stack_environment(settings: Settings) -> dict[str, str]:
    from jobs_shared.dev_secret import load_or_create_dev_secret

    VAR_DIR.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.setdefault("JOBS_STORE_URL", f"sqlite:///{(VAR_DIR / 'jobs.db').resolve()}")
    env.setdefault("JOBS_BLOB_DIR", str((VAR_DIR / "blobs").resolve()))
    if settings.jwt_secret is None:
        env["JOBS_JWT_SECRET"] = load_or_create_dev_secret(VAR_DIR)
    env["PYTHONUNBUFFERED"] = "1"
    return env


PUMP_DRAIN_SECONDS = 5.0
"""How long the stopped services' last output may take to be printed."""


async def _run(env: dict[str, str], settings: Settings) -> None:
    processes = [await _start(service, env) for service in SERVICES]
    pumps = [
        asyncio.create_task(_pump(service, process, _COLOURS[i % len(_COLOURS)]))
        for i, (service, process) in enumerate(zip(SERVICES, processes, strict=True))
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    announcer = asyncio.create_task(_announce_when_ready(settings, env))
    exits = [asyncio.create_task(p.wait()) for p in processes]
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait([*exits, stopper], return_when=asyncio.FIRST_COMPLETED)
    for service, process in zip(SERVICES, processes, strict=True):
        if process.returncode is not None and not stop.is_set():
            _say(f"{service.name} exited with code {process.returncode}: stopping the stack")
    announcer.cancel()
    await _stop_all(processes)
    # Each pump ends at its process's last line; cancelled before that, it would leave the
    # process's pipe open, to be closed by the garbage collector once the loop is gone
    # (asyncio then printed a traceback after a clean Ctrl-C).
    await asyncio.wait(pumps, timeout=PUMP_DRAIN_SECONDS)
    for pump in pumps:
        pump.cancel()
    if any(p.returncode not in (0, -signal.SIGTERM) for p in processes) and not stop.is_set():
        sys.exit(1)


async def _start(service: Service, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        service.module,
        env={**env, "JOBS_HTTP_PORT": str(service.port)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _pump(service: Service, process: asyncio.subprocess.Process, colour: str) -> None:
    assert process.stdout is not None
    prefix = f"{service.name:<12}|"
    if sys.stdout.isatty():
        prefix = f"\033[{colour}m{prefix}\033[0m"
    async for line in process.stdout:
        sys.stdout.write(f"{prefix} {line.decode(errors='replace').rstrip()}\n")
        sys.stdout.flush()


async def _stop_all(processes: list[asyncio.subprocess.Process]) -> None:
    for process in processes:
        if process.returncode is None:
            process.terminate()
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), timeout=15)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _announce_when_ready(settings: Settings, env: dict[str, str]) -> None:
    """Tell the user where to go once the gateway answers, with a development login link."""
    gateway = next(s for s in SERVICES if s.name == "gateway")
    base = settings.public_url or f"http://127.0.0.1:{gateway.port}"
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if await asyncio.to_thread(_answers, f"http://127.0.0.1:{gateway.port}/readyz"):
            login = await _dev_login_link(env)
            _say(f"ready: API {base}/api/v1, OpenAPI {base}/schema/openapi.json")
            _say(f"log in as the demo user: {login}")
            return
        await asyncio.sleep(0.5)
    _say(f"the gateway was not ready after {READY_TIMEOUT_SECONDS:.0f} s; see its log above")


async def _dev_login_link(env: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.dev_token",
        "--link-only",
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    return out.decode().strip()


def _answers(url: str) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
        return bool(response.status == 200)
    return False


def _say(message: str) -> None:
    print(f"{'jobs-stack':<12}| {message}", flush=True)


if __name__ == "__main__":
    main()
