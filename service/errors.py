"""Domain errors raised by the pipeline; the HTTP layer maps them to status codes in one place."""


class ClaimCheckError(Exception):
    """Base class for errors the service reports to its users."""

    code = "error"


class NotLoaded(ClaimCheckError):
    """A model or index was used before it was loaded."""

    code = "not_ready"


class InvalidInput(ClaimCheckError):
    """The request is well-formed JSON but its content cannot be checked."""

    code = "invalid_input"


class InputTooLarge(ClaimCheckError):
    """The request exceeds a configured size limit."""

    code = "too_large"


class SourceError(ClaimCheckError):
    """A reference source file cannot be read; the message names the file and line."""

    code = "bad_source"

    def __init__(self, path: str, message: str, line: int | None = None):
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")


class BadIndex(ClaimCheckError):
    """An index directory is missing, incomplete or inconsistent."""

    code = "bad_index"


class Overloaded(ClaimCheckError):
    """The bounded work queue is full; the client should retry shortly."""

    code = "overloaded"


class DeadlineExceeded(ClaimCheckError):
    """The request did not finish within its time budget."""

    code = "deadline_exceeded"
