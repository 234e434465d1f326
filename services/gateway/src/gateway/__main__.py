"""`jobs-gateway`: serve the gateway with uvicorn on JOBS_HTTP_HOST:JOBS_HTTP_PORT."""

import logging

import uvicorn

from gateway.app import create_app
from gateway.auth import MissingJwtSecretError
from jobs_shared.collector import tune_collector
from jobs_shared.settings import Settings


def main() -> None:
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        app = create_app(settings)
    except MissingJwtSecretError as exc:
        raise SystemExit(f"jobs-gateway: {exc}") from None
    tune_collector()
    uvicorn.run(
        app, host=settings.http_host, port=settings.http_port, log_level=settings.log_level.lower()
    )


if __name__ == "__main__":
    main()
