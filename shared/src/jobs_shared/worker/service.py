"""`run_worker`: what a worker service's `__main__` calls. Serves health checks, drains on SIGTERM.

uvicorn serves `/healthz` and `/readyz` and turns SIGTERM/SIGINT into the app's
shutdown: FastStream then runs `drain` (in-flight items finish or are handed back),
stops the broker, and runs `close`.
"""

import logging

import uvicorn
from faststream.asgi import AsgiFastStream

from jobs_shared.collector import tune_collector
from jobs_shared.health import health_routes
from jobs_shared.worker.base import Worker
from jobs_shared.worker.runtime import WorkerRuntime
from jobs_shared.worker.settings import WorkerSettings


def build_app(runtime: WorkerRuntime) -> AsgiFastStream:
    return AsgiFastStream(
        runtime.broker,
        logger=logging.getLogger(runtime.service),
        asgi_routes=health_routes(runtime.broker, runtime.store, runtime.readiness_problem),
        on_startup=[runtime.open],
        on_shutdown=[runtime.drain],
        after_shutdown=[runtime.close],
    )


def run_worker(worker: Worker, settings: WorkerSettings) -> None:
    """Run `worker` until SIGTERM/SIGINT, then shut down gracefully."""
    runtime = WorkerRuntime(worker, settings)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format=f"%(asctime)s {runtime.service} %(levelname)s %(name)s: %(message)s",
    )
    app = build_app(runtime)
    tune_collector()  # a worker allocates by the hundred thousand: see jobs_shared.collector
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # keep the format above for uvicorn's records too
        log_level=settings.log_level.lower(),
        access_log=False,  # health probes every few seconds are noise
    )
