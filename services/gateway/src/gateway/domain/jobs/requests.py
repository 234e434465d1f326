"""The body of `POST /jobs` and the params of each job type (PRODUCT.md §3 "Job params").

Params are checked here, before anything is queued, so a bad request is a 400 naming the
field (`params.max_pages`) instead of a job that fails later in a worker. Unknown fields
are refused too: a misspelt `max_page` must not silently fall back to a default. What a
job works on is also summarised as its `metadata`, which the job page shows.
`document_ingestion` jobs start from an upload (`POST /documents`), not here.
"""

from abc import abstractmethod
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, ValidationError

from gateway.errors import bad_body
from jobs_shared.contracts import JobType

MAX_PRODUCTS = 10_000
"""Products per enrichment job: a bigger batch is better split (and sent as several jobs)."""
MAX_PAGES = 10_000

ProductId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]


class JobRequest(BaseModel):
    type: JobType = Field(description="`enrichment`, `crawl` or `export`.")
    params: dict[str, Any] = Field(
        default_factory=dict, description="The type's params (PRODUCT.md §3 'Job params')."
    )


class JobParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @abstractmethod
    def metadata(self) -> dict[str, Any]:
        """What the job works on, as its Metadata section shows it."""


class EnrichmentParams(JobParams):
    product_ids: list[ProductId] = Field(min_length=1, max_length=MAX_PRODUCTS)

    def metadata(self) -> dict[str, Any]:
        return {"products": len(self.product_ids)}


class CrawlParams(JobParams):
    start_url: HttpUrl
    max_pages: int = Field(ge=1, le=MAX_PAGES)

    def metadata(self) -> dict[str, Any]:
        return {"url": str(self.start_url)}


class ExportParams(JobParams):
    format: Literal["csv", "xlsx", "json"]
    filter: dict[str, Any] = Field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        return {"format": self.format}


PARAMS: dict[JobType, type[JobParams]] = {
    JobType.ENRICHMENT: EnrichmentParams,
    JobType.CRAWL: CrawlParams,
    JobType.EXPORT: ExportParams,
}


def validated(request: JobRequest) -> JobParams:
    """The request's params checked against its type; a 400 naming each field at fault."""
    model = PARAMS.get(request.type)
    if model is None:
        raise bad_body(
            ("type", f"{request.type.value} jobs start from an upload: POST /api/v1/documents")
        )
    try:
        return model.model_validate(request.params)
    except ValidationError as error:
        raise bad_body(
            *(
                (".".join(["params", *map(str, problem["loc"])]), problem["msg"])
                for problem in error.errors()
            )
        ) from None
