"""`job-tracker`: run the service; `job-tracker asyncapi [--check]`: its AsyncAPI document."""

import argparse
import logging
import sys
from pathlib import Path

import uvicorn

from job_tracker import asyncapi
from job_tracker.app import SERVICE_NAME, build_tracker
from job_tracker.settings import TrackerSettings
from jobs_shared.collector import tune_collector

LOG_FORMAT = f"%(asctime)s {SERVICE_NAME} %(levelname)s %(name)s: %(message)s"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=SERVICE_NAME, description=__doc__)
    commands = parser.add_subparsers(dest="command")
    docs = commands.add_parser("asyncapi", help="write or check the AsyncAPI document")
    docs.add_argument("--output", type=Path, default=Path("docs/asyncapi.yaml"))
    docs.add_argument(
        "--check", action="store_true", help="exit 1 with a diff if --output is out of date"
    )
    args = parser.parse_args(argv)
    if args.command == "asyncapi":
        if args.check:
            sys.exit(asyncapi.check(args.output))
        asyncapi.write(args.output)
        return
    run(TrackerSettings())


def run(settings: TrackerSettings) -> None:
    """Serve until SIGTERM/SIGINT; uvicorn then runs the app's graceful shutdown."""
    logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT)
    tracker = build_tracker(settings)
    tune_collector()  # a batch allocates by the hundred thousand: see jobs_shared.collector
    uvicorn.run(
        tracker.app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # keep the format above for uvicorn's records too
        log_level=settings.log_level.lower(),
        access_log=False,  # health probes every few seconds are noise
    )


if __name__ == "__main__":
    main()
