"""Which failures are the surroundings' and not the request's or the message's: a connection refused, reset
or timed out, a database connection lost or refusing work for now. Such a failure is retried for as long as
it lasts (consumers) or answered 503 (HTTP); anything else is a real failure."""

from __future__ import annotations

# PostgreSQL refusing work for now: connection exceptions, too many clients, shutting down or starting up.
UNAVAILABLE_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03")


def transient(exc: BaseException | None) -> bool:
    """A failure of a connection (refused, reset, timed out; a database connection lost), not of the
    message. Such a failure does not count toward the dead-letter limit: an outage longer than the retries
    would otherwise dead-letter every good message that arrived meanwhile."""
    for _ in range(10):  # the cause chain: SQLAlchemy and the S3 SDK wrap the socket's error
        if exc is None:
            return False
        if isinstance(exc, ConnectionError | TimeoutError) or getattr(exc, "connection_invalidated", False):
            return True
        if str(getattr(exc, "sqlstate", "")).startswith(UNAVAILABLE_SQLSTATES):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
