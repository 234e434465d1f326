"""The tracker's settings: the shared `JOBS_*` variables plus its batching knobs.

Batching is the tracker's performance core: one store round trip per batch instead of
per message. Bigger batches amortise more but hold acks (and the prefetch window) longer;
the linger bounds how long a lone message waits for company when traffic is low.
"""

from jobs_shared.settings import Settings

DEFAULT_HTTP_PORT = 8001
"""The gateway owns 8000; the tracker only serves health checks."""


class TrackerSettings(Settings):
    http_port: int = DEFAULT_HTTP_PORT
    tracker_batch_size: int = 500
    """`JOBS_TRACKER_BATCH_SIZE`: messages folded and saved together at most."""
    tracker_batch_linger_ms: float = 25.0
    """`JOBS_TRACKER_BATCH_LINGER_MS`: how long the first message of a batch waits for more."""

    @property
    def prefetch(self) -> int:
        """Twice the batch: the next batch fills while the previous one is being saved."""
        return 2 * self.tracker_batch_size
