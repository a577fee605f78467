"""Classifies what the clients were told against what the system shows once it has quietened, in the manner
of Jepsen's queue checkers: every accepted letter, expected delivery and acknowledged receive (ลงรับ) is ok,
lost, duplicated or unexpected.

History is what the clients saw (answers of the public API, retried with the same Idempotency-Key until they
were definite); the final state is read back through the public API. Both are plain data here, so the
checker is tested on synthetic histories.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

OK, LOST, DUPLICATED, UNEXPECTED = "ok", "lost", "duplicated", "unexpected"
SENT, DELIVERED, RECEIVED = "letter.sent", "delivery.delivered", "delivery.received"


@dataclass
class History:
    # letter id -> {recipient org id: delivery id}, for every letter the API accepted (201)
    letters: dict[str, dict[str, str]] = field(default_factory=dict)
    # Idempotency-Key -> every letter id answered for it (more than one is a duplicated send)
    keys: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # delivery id -> every receive number answered for it (more than one is a second number)
    receives: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def accepted(self, key: str, letter: dict) -> None:
        self.keys[key].add(letter["id"])
        self.letters[letter["id"]] = {d["recipient_org_id"]: d["id"] for d in letter["deliveries"]}

    def received(self, delivery_id: str, receive_no: int) -> None:
        self.receives[delivery_id].add(receive_no)


@dataclass
class FinalState:
    # letter id -> delivery id -> {"recipient_org_id", "status", "receive_no"}: the sender's view
    sender_view: dict[str, dict[str, dict]]
    # every inbox item of every recipient: {"org_id", "letter_id", "delivery_id", "status", "receive_no"}
    inbox: list[dict]
    # every receive register row of every recipient: {"org_id", "register_no", "letter_id", "delivery_id"}
    registers: list[dict]
    # every audit entry: {"event_id", "type" (unversioned), "letter_id"?, "delivery_id"?, "receive_no"?}
    audit: list[dict]


@dataclass
class Report:
    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    problems: list[str] = field(default_factory=list)

    def mark(self, what: str, outcome: str, detail: str = "") -> None:
        self.counts[what][outcome] += 1
        if outcome != OK:
            self.problems.append(f"{what} {outcome}: {detail}")

    def total(self, outcome: str) -> int:
        return sum(counter[outcome] for counter in self.counts.values())

    def __str__(self) -> str:
        lines = [f"{what}: {dict(counter)}" for what, counter in sorted(self.counts.items())]
        return "\n".join(lines + self.problems[:40])


def check(history: History, state: FinalState) -> Report:
    report = Report()
    audit = _audit_index(state.audit, report)
    _check_letters(history, state, audit, report)
    _check_deliveries(history, state, audit, report)
    _check_receives(history, state, audit, report)
    _check_numbers(state.registers, report)
    return report


def _audit_index(entries: list[dict], report: Report) -> Counter:
    """Leaves per (type, letter or delivery); a second leaf for one event id is a duplicate in itself."""
    seen = Counter(e["event_id"] for e in entries)
    for event_id, n in seen.items():
        report.mark("audit leaf", OK if n == 1 else DUPLICATED, f"event {event_id} has {n} leaves")
    index: Counter = Counter()
    for e in entries:
        subject = e.get("letter_id") if e["type"] == SENT else e.get("delivery_id")
        index[(e["type"], subject)] += 1
    return index


def _check_letters(history: History, state: FinalState, audit: Counter, report: Report) -> None:
    for key, letters in history.keys.items():
        if len(letters) > 1:
            report.mark("send", DUPLICATED, f"Idempotency-Key {key} answered with letters {sorted(letters)}")
    for letter_id in history.letters:
        outcome = _one(letter_id in state.sender_view, audit[(SENT, letter_id)])
        report.mark(
            "letter", outcome, f"{letter_id}: shown={letter_id in state.sender_view} leaves={audit[(SENT, letter_id)]}"
        )
    for letter_id in state.sender_view.keys() - history.letters.keys():
        report.mark("letter", UNEXPECTED, f"{letter_id} was never accepted")


def _check_deliveries(history: History, state: FinalState, audit: Counter, report: Report) -> None:
    copies = Counter((i["letter_id"], i["org_id"]) for i in state.inbox)
    expected = {(letter_id, org) for letter_id, deliveries in history.letters.items() for org in deliveries}
    for letter_id, deliveries in history.letters.items():
        for org, delivery_id in deliveries.items():
            status = state.sender_view.get(letter_id, {}).get(delivery_id, {}).get("status", "pending")
            n, leaves = copies[(letter_id, org)], audit[(DELIVERED, delivery_id)]
            if n > 1 or leaves > 1:
                outcome = DUPLICATED
            elif n == 0 or leaves == 0 or status == "pending":
                outcome = LOST
            else:
                outcome = OK
            report.mark("delivery", outcome, f"{delivery_id} to {org}: inbox={n} leaves={leaves} status={status}")
    for letter_id, org in copies.keys() - expected:
        report.mark("delivery", UNEXPECTED, f"letter {letter_id} in the inbox of {org}, never sent there")


def _check_receives(history: History, state: FinalState, audit: Counter, report: Report) -> None:
    rows = Counter(r["delivery_id"] for r in state.registers)
    shown = {d_id: d for deliveries in state.sender_view.values() for d_id, d in deliveries.items()}
    for delivery_id, numbers in history.receives.items():
        view = shown.get(delivery_id, {})
        n, leaves = rows[delivery_id], audit[(RECEIVED, delivery_id)]
        if len(numbers) > 1 or n > 1 or leaves > 1:
            outcome = DUPLICATED
        elif n == 0 or leaves == 0 or view.get("status") != "received" or {view.get("receive_no")} != numbers:
            outcome = LOST
        else:
            outcome = OK
        detail = f"{delivery_id}: answered={sorted(numbers)} rows={n} leaves={leaves} shown={view.get('receive_no')}"
        report.mark("receive", outcome, detail)
    for delivery_id in rows.keys() - history.receives.keys():
        report.mark("receive", UNEXPECTED, f"{delivery_id} registered but never received by a client")


def _check_numbers(registers: list[dict], report: Report) -> None:
    """Each unit's receive numbers are 1..n: no number twice, none skipped."""
    by_org: dict[str, Counter] = defaultdict(Counter)
    for row in registers:
        by_org[row["org_id"]][row["register_no"]] += 1
    for org, numbers in by_org.items():
        for number in range(1, max(numbers) + 1):
            times = numbers[number]
            outcome = OK if times == 1 else LOST if times == 0 else DUPLICATED
            report.mark("receive number", outcome, f"{org} number {number} used {times} times")


def _one(present: bool, leaves: int) -> str:
    if leaves > 1:
        return DUPLICATED
    return OK if present and leaves == 1 else LOST
