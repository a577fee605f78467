"""Which consumer failures count toward the dead-letter limit: an outage does not, a bad message does."""

from __future__ import annotations

from shared.transient import transient


class Wrapped(Exception):
    """As SQLAlchemy and the S3 SDK raise: their own error, the socket's as its cause."""

    connection_invalidated = False


def raised_from(cause: BaseException) -> Exception:
    try:
        raise Wrapped("wrapped") from cause
    except Wrapped as exc:
        return exc


def test_a_refused_or_reset_connection_is_transient_also_when_wrapped():
    assert transient(ConnectionRefusedError())
    assert transient(raised_from(ConnectionResetError()))
    assert transient(raised_from(TimeoutError()))


def test_a_lost_database_connection_is_transient():
    lost = Wrapped("connection is closed")
    lost.connection_invalidated = True  # SQLAlchemy's mark on a DBAPI error that ended the connection
    assert transient(lost)


def test_a_database_refusing_connections_for_now_is_transient():
    full = Wrapped("sorry, too many clients already")
    full.sqlstate = "53300"
    assert transient(raised_from(full))


def test_a_bad_message_or_a_bug_is_not():
    unique = Wrapped("duplicate key")
    unique.sqlstate = "23505"
    assert not transient(unique)
    assert not transient(ValueError("not a letter"))
    assert not transient(raised_from(KeyError("letter_id")))
    assert not transient(FileNotFoundError("spool"))
