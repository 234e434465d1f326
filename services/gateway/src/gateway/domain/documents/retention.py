"""Uploaded documents are kept `JOBS_BLOB_RETENTION_DAYS` days, then deleted.

An upload stays in the blob store after its job ended because a retry reads it again
(a retry job plans the same file and keeps only the failed rows). Past the retention,
a retry of that job fails with "The uploaded file is no longer available: upload the
document again." Without a limit the blob store would only grow. The gateway sweeps,
because it is the service that stores uploads; with several gateways each sweeps, and
a blob deleted twice is no error.
"""

import asyncio
import logging
from datetime import timedelta

from jobs_shared.blobs import BlobStore
from jobs_shared.contracts import utc_now

log = logging.getLogger(__name__)

SWEEP_EVERY_SECONDS = 3600.0


async def sweep_forever(
    blobs: BlobStore, retention: timedelta, every: float = SWEEP_EVERY_SECONDS
) -> None:
    """Delete blobs older than `retention` now and then every `every` seconds; a failed
    sweep is logged and tried again next time."""
    while True:
        try:
            deleted = await blobs.delete_stored_before(utc_now() - retention)
        except Exception:
            log.exception("the blob retention sweep failed; trying again in %.0f s", every)
        else:
            if deleted:
                log.info("deleted %d uploads older than %s", deleted, retention)
        await asyncio.sleep(every)
