"""The queue before starting more work: active jobs and broker backlog per job type."""
