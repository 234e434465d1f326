"""The store port (what the services need from storage) and its two adapters."""

from jobs_shared.store.port import JobCursor, JobQuery, JobStore
from jobs_shared.store.factory import open_store

__all__ = ["JobCursor", "JobQuery", "JobStore", "open_store"]
