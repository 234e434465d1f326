"""Routing keys, and turning a delivered message back into its contract model.

The routing key says what a message is (`<type>.submit`, `items.outcomes`, ...), so
the tracker can take every message it folds from one queue and still know its kind.
"""

from pydantic import BaseModel

from jobs_shared.contracts.commands import CancelJob, SubmitJob
from jobs_shared.contracts.events import (
    ItemOutcomes,
    JobFailed,
    JobStarted,
    JobSubmitted,
    JobTotalGrew,
    TrackerMessage,
)
from jobs_shared.contracts.vocabulary import JobType


def submit_key(job_type: JobType) -> str:
    return f"{job_type.value}.submit"


def cancel_key(job_type: JobType) -> str:
    return f"{job_type.value}.cancel"


def run_key(job_type: JobType) -> str:
    return f"{job_type.value}.run"


EVENT_KEYS: dict[type[BaseModel], str] = {
    JobStarted: "job.started",
    JobTotalGrew: "job.total_grew",
    JobFailed: "job.failed",
    ItemOutcomes: "items.outcomes",
}
_EVENT_BY_KEY = {key: model for model, key in EVENT_KEYS.items()}


class UnknownRoutingKeyError(ValueError):
    pass


def event_key(event: BaseModel) -> str:
    return EVENT_KEYS[type(event)]


def parse_tracker_message(routing_key: str, body: bytes, fallback_job_id: str) -> TrackerMessage:
    """Decode one message the tracker consumes; raises ValueError (pydantic's included) if bad.

    `fallback_job_id` names a submitted job whose publisher sent no `job_id`.
    """
    if routing_key in _EVENT_BY_KEY:
        event: TrackerMessage = _EVENT_BY_KEY[routing_key].model_validate_json(body)  # type: ignore[assignment]
        return event
    prefix, _, verb = routing_key.rpartition(".")
    try:
        job_type = JobType(prefix)
    except ValueError:
        raise UnknownRoutingKeyError(f"unknown routing key {routing_key!r}") from None
    if verb == "submit":
        command = SubmitJob.model_validate_json(body)
        return JobSubmitted(
            job_id=command.job_id or fallback_job_id, job_type=job_type, command=command
        )
    if verb == "cancel":
        cancel = CancelJob.model_validate_json(body)
        if cancel.job_type != job_type:
            raise ValueError(f"cancel for a {cancel.job_type} job sent with key {routing_key!r}")
        return cancel
    raise UnknownRoutingKeyError(f"unknown routing key {routing_key!r}")
