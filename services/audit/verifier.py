"""`sarabun-audit`: checks the audit log from the outside, with only the public API and the log's public key.

    sarabun-audit verify --url URL --token TOKEN [--public-key KEY] [--state FILE] [--sample N]
                         [--letter LETTER_ID ...] [--json]
    sarabun-audit monitor --url URL --token TOKEN --state FILE [--public-key KEY] [--json]
    sarabun-audit export --url URL --token TOKEN --out FILE [--public-key KEY] [--json]
    sarabun-audit replay --export FILE [--public-key KEY] [--json]

`verify` recomputes the Merkle root from every entry and compares it with the signed checkpoint, checks the
signature, checks inclusion proofs for a sample of entries and for every event of each --letter's history,
and (with --state) checks that the log extends the checkpoint saved there, then saves the new one with the
leaf hashes it covers, so that a later rewrite of those entries is named by its first index. `monitor` does
only the consistency check, cheaply, and is meant to run on a schedule. `export` writes every entry the
latest checkpoint covers, the checkpoint and the public key into one JSON file; `replay` checks such a file
with no network at all. Exit status: 0 valid, 1 invalid (the message names the first bad index when it can be
known), 2 cannot check.

Deliberately independent of the service: it imports the pure Merkle and note modules, httpx and
cryptography, never the database, the settings or anything under shared/.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import random
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.audit.domain.log import leaf_hash
from services.audit.domain.merkle import root, verify_consistency, verify_inclusion
from services.audit.domain.note import (
    Checkpoint,
    NoteError,
    VerifierKey,
    parse_checkpoint,
    parse_verifier_key,
    verifier_key_text,
    verify_checkpoint,
)

VALID, INVALID, CANNOT_CHECK = 0, 1, 2
PAGE = 1000
API = "/api/v1/audit"
EXPORT_FORMAT = "sarabun-audit-export/1"
HASH_SIZE = 32


class Invalid(Exception):
    """The log is provably wrong. `index` is the first bad leaf when one can be named."""

    def __init__(self, thai: str, english: str, index: int | None = None):
        super().__init__(english)
        self.thai, self.english, self.index = thai, english, index


class CannotCheck(Exception):
    def __init__(self, thai: str, english: str):
        super().__init__(english)
        self.thai, self.english = thai, english


@dataclass
class Report:
    checks: list[str] = field(default_factory=list)
    checkpoint: Checkpoint | None = None


class Log:
    """The log's public API, read-only."""

    def __init__(self, client: httpx.AsyncClient):
        self.client = client

    async def _get(self, path: str, **params) -> httpx.Response:
        try:
            response = await self.client.get(API + path, params=params)
        except httpx.HTTPError as exc:
            raise CannotCheck("ติดต่อบริการไม่ได้", f"cannot reach the log: {exc}") from exc
        if response.status_code != 200:
            raise CannotCheck(
                f"บริการตอบ {response.status_code} ที่ {path}", f"the log answered {response.status_code} on {path}"
            )
        return response

    async def text(self, path: str) -> str:
        return (await self._get(path)).text

    async def json(self, path: str, **params):
        try:
            return (await self._get(path, **params)).json()
        except ValueError as exc:
            raise CannotCheck("คำตอบไม่ใช่ JSON", f"{path} did not answer JSON") from exc

    async def proof(self, path: str, **params) -> list[bytes]:
        body = await self.json(path, **params)
        try:
            return [base64.b64decode(h, validate=True) for h in body["hashes"]]
        except (KeyError, TypeError, binascii.Error) as exc:
            raise Invalid("รูปแบบของหลักฐานไม่ถูกต้อง", f"malformed proof from {path}") from exc


async def _key(log: Log, given: str | None, state: dict) -> VerifierKey:
    # A key given on the command line or saved with the state is trusted; one fetched from the log itself
    # only proves the log agrees with itself, so it is used only when nothing else is at hand.
    text = given or state.get("public_key") or await log.text("/public-key")
    try:
        return parse_verifier_key(text)
    except NoteError as exc:
        raise CannotCheck("กุญแจสาธารณะไม่ถูกต้อง", f"unusable public key: {exc}") from exc


async def _checkpoint(log: Log, key: VerifierKey) -> Checkpoint:
    try:
        return verify_checkpoint(await log.text("/checkpoint"), key)
    except NoteError as exc:
        raise Invalid("ลายมือชื่อของจุดตรวจสอบไม่ถูกต้อง", f"the checkpoint does not verify: {exc}") from exc


def _check_page(page, hashes: list[bytes]) -> None:
    """Appends the leaf hashes of one page of entries, each checked against its entry bytes and its place."""
    if not isinstance(page, list):
        raise CannotCheck("รายการอยู่ในรูปแบบที่อ่านไม่ได้", "the entries are not a list")
    for item in page:
        expected = len(hashes)
        if not isinstance(item, dict) or item.get("index") != expected:
            raise Invalid(f"ลำดับรายการผิดที่ {expected}", f"entry {expected} is missing or out of order", expected)
        try:
            entry = base64.b64decode(item["entry"], validate=True)
            stated = base64.b64decode(item["leaf_hash"], validate=True)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise Invalid(f"รายการที่ {expected} เสียรูป", f"entry {expected} is malformed", expected) from exc
        if leaf_hash(entry) != stated:
            raise Invalid(
                f"รายการที่ {expected} ไม่ตรงกับค่าแฮชของมัน", f"entry {expected} does not match its leaf hash", expected
            )
        hashes.append(stated)


async def _entry_pages(log: Log, size: int):
    """The entries [0, size), a page at a time."""
    start = 0
    while start < size:
        page = await log.json("/entries", start=start, end=min(size, start + PAGE))
        if not isinstance(page, list):
            raise CannotCheck("รายการอยู่ในรูปแบบที่อ่านไม่ได้", "the entries are not a list")
        if not page:
            raise Invalid("รายการขาดหาย", f"entries end at {start}, the checkpoint has {size}", start)
        yield page
        start += len(page)


async def _leaf_hashes(log: Log, size: int) -> list[bytes]:
    """Every entry up to the checkpoint, each checked against its leaf hash and its place."""
    hashes: list[bytes] = []
    async for page in _entry_pages(log, size):
        _check_page(page, hashes)
    return hashes[:size]


async def _first_bad_leaf(log: Log, hashes: list[bytes], checkpoint: Checkpoint) -> int | None:
    """When the recomputed root is wrong, the first leaf whose inclusion in the signed tree fails."""
    for index, value in enumerate(hashes):
        proof = await log.proof("/proofs/inclusion", index=index, tree_size=checkpoint.size)
        if not verify_inclusion(index, checkpoint.size, value, proof, checkpoint.root):
            return index
    return None


async def _check_entries(log: Log, checkpoint: Checkpoint, sample: int, report: Report, state: dict) -> list[bytes]:
    hashes = await _leaf_hashes(log, checkpoint.size)
    # Entries saved as trusted earlier must still be there, unchanged: the first that differs is the first bad one.
    if (bad := _first_difference(_saved_hashes(state), hashes)) is not None:
        raise Invalid(
            f"รายการที่ {bad} ไม่ตรงกับที่ตรวจสอบและบันทึกไว้ก่อนหน้า",
            f"entry {bad} differs from the one verified and saved earlier",
            bad,
        )
    if root(hashes) != checkpoint.root:
        bad = await _first_bad_leaf(log, hashes, checkpoint)
        raise Invalid(
            f"รากที่คำนวณจากรายการไม่ตรงกับจุดตรวจสอบ รายการแรกที่ผิดคือ {bad}",
            f"the root of the entries is not the signed root; first bad entry: {bad}",
            bad,
        )
    report.checks.append(f"root of {checkpoint.size} entries matches the checkpoint")
    chosen = random.sample(range(checkpoint.size), min(sample, checkpoint.size))
    for index in sorted(chosen):
        proof = await log.proof("/proofs/inclusion", index=index, tree_size=checkpoint.size)
        if not verify_inclusion(index, checkpoint.size, hashes[index], proof, checkpoint.root):
            raise Invalid(f"หลักฐานการอยู่ในบันทึกของรายการที่ {index} ไม่ถูกต้อง", f"inclusion of {index} fails", index)
    report.checks.append(f"{len(chosen)} inclusion proofs verify")
    return hashes


def _saved_hashes(state: dict) -> list[bytes]:
    try:
        raw = base64.b64decode(state.get("leaf_hashes", ""), validate=True)
    except (TypeError, ValueError, binascii.Error) as exc:
        raise CannotCheck("ค่าแฮชในไฟล์สถานะเสียรูป", "the leaf hashes in the state file are malformed") from exc
    if len(raw) % HASH_SIZE:
        raise CannotCheck("ค่าแฮชในไฟล์สถานะเสียรูป", "the leaf hashes in the state file are malformed")
    return [raw[i : i + HASH_SIZE] for i in range(0, len(raw), HASH_SIZE)]


def _first_difference(saved: list[bytes], hashes: list[bytes]) -> int | None:
    """The first index where the saved leaf hashes and the served ones differ, or the first saved one that is
    no longer served; None when every saved hash is still in its place."""
    for index, value in enumerate(saved):
        if index >= len(hashes) or hashes[index] != value:
            return index
    return None


async def _histories(log: Log, letters: list[str]) -> dict[str, list[dict]]:
    """Each letter's history as the service tells it. Read before the checkpoint, which then covers it."""
    found = {}
    for letter in letters:
        try:
            body = await log.json(f"/letters/{letter}/history")
            found[letter] = [{"index": int(e["index"]), "type": str(e["type"])} for e in body["events"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise CannotCheck("ประวัติของหนังสืออ่านไม่ได้", f"the history of {letter} is malformed") from exc
    return found


async def _check_letters(
    log: Log, histories: dict[str, list[dict]], hashes: list[bytes], checkpoint: Checkpoint, report: Report
) -> None:
    """Every event of each letter's history is the entry of that letter at its index, and that entry is in the
    signed tree: its inclusion proof leads to the checkpoint's root."""
    for letter, events in histories.items():
        for event in events:
            index = event["index"]
            if not 0 <= index < checkpoint.size:
                raise CannotCheck(
                    f"เหตุการณ์ที่ {index} ของหนังสือ {letter} ยังไม่อยู่ในจุดตรวจสอบ",
                    f"event {index} of letter {letter} is not yet covered by the signed checkpoint",
                )
            page = await log.json("/entries", start=index, end=index + 1)
            entry = _single_entry(page, index, hashes)
            facts = _facts(entry, index)
            if facts.get("letter_id") != letter or not str(facts.get("type", "")).startswith(event["type"] + "."):
                raise Invalid(
                    f"รายการที่ {index} ไม่ใช่เหตุการณ์ {event['type']} ของหนังสือ {letter}",
                    f"entry {index} is not the {event['type']} event of letter {letter} the history claims",
                    index,
                )
            proof = await log.proof("/proofs/inclusion", index=index, tree_size=checkpoint.size)
            if not verify_inclusion(index, checkpoint.size, hashes[index], proof, checkpoint.root):
                raise Invalid(f"หลักฐานการอยู่ในบันทึกของรายการที่ {index} ไม่ถูกต้อง", f"inclusion of {index} fails", index)
        report.checks.append(f"all {len(events)} events of letter {letter} are in the signed log")


def _single_entry(page, index: int, hashes: list[bytes]) -> bytes:
    checked: list[bytes] = []
    try:
        entry = base64.b64decode(page[0]["entry"], validate=True)
        _check_page([dict(page[0], index=0)], checked)
    except (IndexError, KeyError, TypeError, ValueError, binascii.Error, Invalid) as exc:
        raise Invalid(f"รายการที่ {index} เสียรูป", f"entry {index} is malformed", index) from exc
    if page[0].get("index") != index or checked[0] != hashes[index]:
        raise Invalid(f"รายการที่ {index} เปลี่ยนไประหว่างการตรวจ", f"entry {index} changed during the check", index)
    return entry


def _facts(entry: bytes, index: int) -> dict:
    try:
        facts = json.loads(entry)
    except ValueError as exc:
        raise Invalid(f"รายการที่ {index} ไม่ใช่ JSON", f"entry {index} is not JSON", index) from exc
    if not isinstance(facts, dict):
        raise Invalid(f"รายการที่ {index} ไม่ใช่ JSON object", f"entry {index} is not a JSON object", index)
    return facts


async def _check_extends(log: Log, key: VerifierKey, state: dict, checkpoint: Checkpoint, report: Report) -> None:
    """The new checkpoint must extend the one saved earlier; a shorter or forked log is invalid."""
    if "checkpoint" not in state:
        report.checks.append("no saved checkpoint yet; this one is saved")
        return
    try:
        old = verify_checkpoint(state["checkpoint"], key)
    except NoteError as exc:
        raise CannotCheck("จุดตรวจสอบที่บันทึกไว้ใช้ไม่ได้", f"the saved checkpoint does not verify: {exc}") from exc
    if checkpoint.size < old.size:
        raise Invalid(
            f"บันทึกสั้นลงจาก {old.size} เหลือ {checkpoint.size}",
            f"the log shrank from {old.size} to {checkpoint.size}",
            checkpoint.size,
        )
    proof = await log.proof("/proofs/consistency", first=old.size, second=checkpoint.size)
    if not verify_consistency(old.size, checkpoint.size, old.root, checkpoint.root, proof):
        bad = await _first_rewritten(log, state, checkpoint)
        named = "" if bad is None else f"; first bad entry: {bad}"
        raise Invalid(
            f"บันทึกขนาด {checkpoint.size} ไม่ได้ต่อจากจุดตรวจสอบขนาด {old.size} ที่บันทึกไว้"
            + ("" if bad is None else f" รายการแรกที่ผิดคือ {bad}"),
            f"the log of {checkpoint.size} does not extend the saved checkpoint of {old.size}{named}",
            bad,
        )
    report.checks.append(f"extends the saved checkpoint of {old.size}")


async def _first_rewritten(log: Log, state: dict, checkpoint: Checkpoint) -> int | None:
    """With the leaf hashes saved by an earlier verify, the first entry served differently now."""
    saved = _saved_hashes(state)
    if not saved:
        return None
    return _first_difference(saved, await _leaf_hashes(log, min(len(saved), checkpoint.size)))


def _load_state(path: Path | None) -> dict:
    if path is None or not path.exists():
        return {}
    try:
        state = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise CannotCheck("อ่านไฟล์สถานะไม่ได้", f"cannot read the state file: {exc}") from exc
    if not isinstance(state, dict):
        raise CannotCheck("อ่านไฟล์สถานะไม่ได้", "the state file is not a JSON object")
    return state


def _save_state(path: Path, key: VerifierKey, note: str, hashes: list[bytes]) -> None:
    """The trusted checkpoint and, when known, the leaf hashes it covers (32 bytes an entry)."""
    body = {"public_key": verifier_key_text(key.name, key.public_key), "checkpoint": note}
    if hashes:
        body["leaf_hashes"] = base64.b64encode(b"".join(hashes)).decode("ascii")
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(body, indent=2), "utf-8")
    tmp.replace(path)


async def _run_checks(args, client: httpx.AsyncClient) -> Report:
    log, report = Log(client), Report()
    state_path = Path(args.state) if args.state else None
    state = _load_state(state_path)
    key = await _key(log, args.public_key, state)
    histories = await _histories(log, args.letter or []) if args.command == "verify" else {}
    checkpoint = await _checkpoint(log, key)
    report.checkpoint = checkpoint
    report.checks.append(f"checkpoint of {checkpoint.size} entries signed by {key.name}")
    # monitor keeps the hashes saved earlier: they remain a prefix of every log that extends their checkpoint.
    hashes = _saved_hashes(state)
    if args.command == "verify":
        hashes = await _check_entries(log, checkpoint, args.sample, report, state)
        await _check_letters(log, histories, hashes, checkpoint, report)
    await _check_extends(log, key, state, checkpoint, report)
    if state_path is not None:
        # The note is fetched again only to keep its exact text; it must be the one just checked.
        note = await log.text("/checkpoint")
        if verify_checkpoint(note, key) == checkpoint:
            _save_state(state_path, key, note, hashes)
    return report


async def _export(args, client: httpx.AsyncClient) -> Report:
    """Writes the latest checkpoint, the key and every entry it covers, then checks the file as replay does."""
    log = Log(client)
    key = await _key(log, args.public_key, {})
    note = await log.text("/checkpoint")
    try:
        size = parse_checkpoint(note.rpartition("\n\n")[0] + "\n").size
    except NoteError as exc:
        raise Invalid("จุดตรวจสอบเสียรูป", f"the checkpoint is malformed: {exc}") from exc
    entries = []
    async for page in _entry_pages(log, size):
        entries += page
    export = {
        "format": EXPORT_FORMAT,
        "public_key": verifier_key_text(key.name, key.public_key),
        "checkpoint": note,
        "entries": entries[:size],
    }
    out = Path(args.out)
    tmp = out.with_suffix(out.suffix + ".tmp")
    try:
        tmp.write_text(json.dumps(export, separators=(",", ":")), "utf-8")
        tmp.replace(out)
    except OSError as exc:
        raise CannotCheck("เขียนไฟล์ส่งออกไม่ได้", f"cannot write the export: {exc}") from exc
    report = _replay(export, args.public_key)
    report.checks.insert(0, f"exported {size} entries to {out}")
    return report


def _read_export(path: str) -> dict:
    try:
        export = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise CannotCheck("อ่านไฟล์ส่งออกไม่ได้", f"cannot read the export: {exc}") from exc
    if not isinstance(export, dict) or export.get("format") != EXPORT_FORMAT:
        raise CannotCheck("ไม่ใช่ไฟล์ส่งออกของบันทึกการตรวจสอบ", f"not an audit log export ({EXPORT_FORMAT})")
    return export


def _replay(export: dict, given_key: str | None) -> Report:
    """Checks an export with nothing else: the signature on its checkpoint, every entry against its leaf hash
    and place, and the root of the entries against the signed root."""
    report = Report()
    text = given_key or export.get("public_key")
    try:
        key = parse_verifier_key(text if isinstance(text, str) else "")
    except NoteError as exc:
        raise CannotCheck("กุญแจสาธารณะไม่ถูกต้อง", f"unusable public key: {exc}") from exc
    note = export.get("checkpoint")
    try:
        checkpoint = verify_checkpoint(note if isinstance(note, str) else "", key)
    except NoteError as exc:
        raise Invalid("ลายมือชื่อของจุดตรวจสอบไม่ถูกต้อง", f"the checkpoint does not verify: {exc}") from exc
    report.checkpoint = checkpoint
    report.checks.append(f"checkpoint of {checkpoint.size} entries signed by {key.name}")
    hashes: list[bytes] = []
    _check_page(export.get("entries"), hashes)
    if len(hashes) < checkpoint.size:
        raise Invalid(
            "รายการขาดหาย", f"entries end at {len(hashes)}, the checkpoint has {checkpoint.size}", len(hashes)
        )
    if root(hashes[: checkpoint.size]) != checkpoint.root:
        # Offline there are no proofs to point at the bad entry: only that the set is not the signed one.
        raise Invalid("รากที่คำนวณจากรายการไม่ตรงกับจุดตรวจสอบ", "the root of the entries is not the signed root")
    report.checks.append(f"root of {checkpoint.size} entries matches the checkpoint")
    return report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sarabun-audit", description="ตรวจสอบบันทึกการตรวจสอบ (verify the audit log)")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("verify", "monitor", "export", "replay"):
        command = commands.add_parser(name)
        if name == "replay":
            command.add_argument("--export", required=True, help="a file written by `sarabun-audit export`")
        else:
            command.add_argument("--url", required=True, help="the gateway, e.g. http://localhost:8000")
            command.add_argument("--token", required=True, help="a bearer token of an auditor")
        command.add_argument("--public-key", help="the log's verifier key, name+keyid+key")
        if name in ("verify", "monitor"):
            command.add_argument("--state", required=name == "monitor", help="file keeping the last trusted checkpoint")
        command.add_argument("--json", action="store_true", help="one JSON object on stdout")
        if name == "verify":
            command.add_argument("--sample", type=int, default=20, help="inclusion proofs to check")
            command.add_argument(
                "--letter", action="append", type=_letter_id, help="check every event of this letter (repeatable)"
            )
        if name == "export":
            command.add_argument("--out", required=True, help="the file to write")
    return parser


def _letter_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a letter id: {text!r}") from exc


def _emit(args, status: int, thai: str, english: str, report: Report, index: int | None) -> None:
    if args.json:
        outcome = {VALID: "valid", INVALID: "invalid", CANNOT_CHECK: "cannot_check"}[status]
        body = {"result": outcome, "message_th": thai, "message_en": english, "checks": report.checks}
        if index is not None:
            body["first_bad_index"] = index
        if report.checkpoint:
            body["checkpoint"] = {
                "size": report.checkpoint.size,
                "root": base64.b64encode(report.checkpoint.root).decode(),
            }
        print(json.dumps(body, ensure_ascii=False))
    else:
        print(f"{thai} ({english})", file=sys.stdout if status == VALID else sys.stderr)


async def run(argv: list[str] | None = None, transport: httpx.AsyncBaseTransport | None = None) -> int:
    """The command, as a coroutine; `transport` lets a test run it against an app in the same process."""
    args = build_parser().parse_args(argv)
    report = Report()
    try:
        if args.command == "replay":
            report = _replay(_read_export(args.export), args.public_key)
        else:
            headers = {"Authorization": f"Bearer {args.token}"}
            steps = _export if args.command == "export" else _run_checks
            async with httpx.AsyncClient(base_url=args.url, headers=headers, transport=transport, timeout=30) as client:
                report = await steps(args, client)
    except Invalid as exc:
        _emit(args, INVALID, f"ไม่ถูกต้อง: {exc.thai}", f"INVALID: {exc.english}", report, exc.index)
        return INVALID
    except CannotCheck as exc:
        _emit(args, CANNOT_CHECK, f"ตรวจสอบไม่ได้: {exc.thai}", f"cannot check: {exc.english}", report, None)
        return CANNOT_CHECK
    size = report.checkpoint.size if report.checkpoint else 0
    _emit(
        args, VALID, f"ถูกต้อง: บันทึก {size} รายการ", f"VALID: {size} entries; " + "; ".join(report.checks), report, None
    )
    return VALID


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(argv))


if __name__ == "__main__":
    sys.exit(main())
