"""The one exception a whole-file problem raises.

A worker turns it into a failed job whose message the merchant reads as is, so
every message here is written for a merchant and says what to do, and each one
carries the error category whose cause and fix the API shows beside it.
"""

from jobs_shared.errors import ErrorCategory


class DocumentError(Exception):
    """The file as a whole cannot be read: nothing in it becomes a product."""

    def __init__(self, message: str, category: ErrorCategory = ErrorCategory.PARSE_ERROR) -> None:
        super().__init__(message)
        self.category = category
        self.message = message
