"""What handlers get injected: the store and broker the app holds, the caller, the job
reader bound to the caller's tenant, the caller's job commands, and the live-updates hub.

The store and broker live in `app.state` (set by `create_app` or the lifespan), so
tests can hand the app their own and production gets the ones built from settings.
"""

from typing import Any, TypeAlias, cast

from faststream.rabbit import RabbitBroker
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation

from gateway.auth import Principal
from gateway.domain.jobs.commands import JobCommands
from gateway.domain.jobs.services import JobService
from gateway.domain.live.hub import Hub
from jobs_shared.blobs import BlobStore
from jobs_shared.store import CatalogStore, JobStore

Store: TypeAlias = NamedDependency[SkipValidation[JobStore]]
"""The store; a Protocol, which cannot be checked at run time, hence not validated."""
Broker: TypeAlias = NamedDependency[SkipValidation[RabbitBroker]]
Caller: TypeAlias = NamedDependency[SkipValidation[Principal]]
Blobs: TypeAlias = NamedDependency[SkipValidation[BlobStore]]
Catalog: TypeAlias = NamedDependency[SkipValidation[CatalogStore]]
UploadLimit: TypeAlias = NamedDependency[int]
"""`JOBS_UPLOAD_MAX_BYTES`: the largest document accepted."""
Jobs: TypeAlias = NamedDependency[SkipValidation[JobService]]
Commands: TypeAlias = NamedDependency[SkipValidation[JobCommands]]
LiveHub: TypeAlias = NamedDependency[SkipValidation[Hub]]


def provide_store(state: State) -> JobStore:
    return cast(JobStore, state.store)


def provide_broker(state: State) -> RabbitBroker:
    return cast(RabbitBroker, state.broker)


def provide_blobs(state: State) -> BlobStore:
    return cast(BlobStore, state.blobs)


def provide_catalog(state: State) -> CatalogStore:
    return cast(CatalogStore, state.catalog)


def provide_upload_limit(state: State) -> int:
    return cast(int, state.upload_max_bytes)


def provide_hub(state: State) -> Hub:
    return cast(Hub, state.hub)


def provide_principal(request: Request[Principal, str, Any]) -> Principal:
    return request.user


def provide_job_service(store: Store, principal: Caller) -> JobService:
    return JobService(store, principal.tenant)


def provide_job_commands(store: Store, broker: Broker, principal: Caller) -> JobCommands:
    return JobCommands(store, broker, principal)


DEPENDENCIES = {
    "store": Provide(provide_store, sync_to_thread=False),
    "broker": Provide(provide_broker, sync_to_thread=False),
    "blobs": Provide(provide_blobs, sync_to_thread=False),
    "catalog": Provide(provide_catalog, sync_to_thread=False),
    "upload_limit": Provide(provide_upload_limit, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
    "jobs": Provide(provide_job_service, sync_to_thread=False),
    "commands": Provide(provide_job_commands, sync_to_thread=False),
    "hub": Provide(provide_hub, sync_to_thread=False),
}
