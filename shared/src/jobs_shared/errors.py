"""Error categories: the one place that says what each failure means to a merchant.

Every item or job error carries one category; the API shows the cause and the
fix beside it, so that the text a merchant reads lives here and nowhere else.
"""

from dataclasses import dataclass
from enum import StrEnum


class ErrorCategory(StrEnum):
    URL_UNREACHABLE = "url_unreachable"
    PARSE_ERROR = "parse_error"
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    VALIDATION_ERROR = "validation_error"
    INTERNAL_ERROR = "internal_error"


@dataclass(frozen=True, slots=True)
class Guidance:
    cause: str
    fix: str


GUIDANCE: dict[ErrorCategory, Guidance] = {
    ErrorCategory.URL_UNREACHABLE: Guidance(
        cause="The product or site URL is not accessible.",
        fix="Verify and update the URLs.",
    ),
    ErrorCategory.PARSE_ERROR: Guidance(
        cause="The file format is unsupported or the file is corrupted.",
        fix="Re-upload the file or convert it to CSV, XLSX or PDF.",
    ),
    ErrorCategory.RATE_LIMITED: Guidance(
        cause="Too many requests were sent to an external site.",
        fix="Wait and retry, or reduce the batch size.",
    ),
    ErrorCategory.TIMEOUT: Guidance(
        cause="Processing took too long.",
        fix="Split the work into smaller batches.",
    ),
    ErrorCategory.VALIDATION_ERROR: Guidance(
        cause="A row or product is missing required data.",
        fix="Fix the data and resubmit.",
    ),
    ErrorCategory.INTERNAL_ERROR: Guidance(
        cause="A bug or an outage on our side.",
        fix="Retry; report it if it happens again.",
    ),
}
