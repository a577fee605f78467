"""Crash points for the fault-injection tests (tests/faults). A test hook only: it does nothing unless the
environment variable SARABUN_CRASH_AT names the point, and is never set in a deployment.

    SARABUN_CRASH_AT=relay.after_publish        SIGKILL this process the first time that point is reached
    SARABUN_CRASH_AT=consumer.after_commit:5    ... the fifth time (points may be listed, comma-separated)

SIGKILL, not an exception: nothing is cleaned up, no transaction is rolled back by the process, no ack is
sent, exactly as when the machine loses power between two steps.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_reached: Counter[str] = Counter()


def crash_point(name: str) -> None:
    spec = os.environ.get("SARABUN_CRASH_AT")
    if not spec:
        return
    _reached[name] += 1
    for item in spec.split(","):
        point, _, nth = item.strip().partition(":")
        if point == name and _reached[name] == int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
