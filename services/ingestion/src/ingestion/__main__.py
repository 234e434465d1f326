"""`python -m ingestion`: run the document ingestion worker until SIGTERM/SIGINT."""

from ingestion.settings import IngestionSettings
from ingestion.worker import IngestionWorker
from jobs_shared.worker import run_worker


def main() -> None:
    settings = IngestionSettings()
    run_worker(IngestionWorker(settings), settings)


if __name__ == "__main__":
    main()
