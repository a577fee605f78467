"""`sarabun-audit`: checks the audit log from the outside, with only the public API and the log's public key.

    sarabun-audit verify --url URL --token TOKEN [--public-key KEY] [--state FILE] [--sample N] [--json]
    sarabun-audit monitor --url URL --token TOKEN --state FILE [--public-key KEY] [--json]

`verify` recomputes the Merkle root from every entry and compares it with the signed checkpoint, checks the
signature, checks inclusion proofs for a sample of entries, and (with --state) checks that the log extends
the checkpoint saved there, then saves the new one. `monitor` does only the last two, cheaply, and is meant
to run on a schedule. Exit status: 0 valid, 1 invalid (the message names the first bad index), 2 cannot check.

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
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.audit.domain.log import leaf_hash
from services.audit.domain.merkle import root, verify_consistency, verify_inclusion
from services.audit.domain.note import (
    Checkpoint,
    NoteError,
    VerifierKey,
    parse_verifier_key,
    verifier_key_text,
    verify_checkpoint,
)

VALID, INVALID, CANNOT_CHECK = 0, 1, 2
PAGE = 1000
API = "/api/v1/audit"


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


async def _leaf_hashes(log: Log, size: int) -> list[bytes]:
    """Every entry up to the checkpoint, each checked against its leaf hash and its place."""
    hashes: list[bytes] = []
    while len(hashes) < size:
        page = await log.json("/entries", start=len(hashes), end=min(size, len(hashes) + PAGE))
        if not page:
            raise Invalid("รายการขาดหาย", f"entries end at {len(hashes)}, the checkpoint has {size}", len(hashes))
        for item in page:
            expected = len(hashes)
            if item.get("index") != expected:
                raise Invalid(f"ลำดับรายการผิดที่ {expected}", f"entry {expected} is missing or out of order", expected)
            try:
                entry = base64.b64decode(item["entry"], validate=True)
                stated = base64.b64decode(item["leaf_hash"], validate=True)
            except (KeyError, TypeError, binascii.Error) as exc:
                raise Invalid(f"รายการที่ {expected} เสียรูป", f"entry {expected} is malformed", expected) from exc
            if leaf_hash(entry) != stated:
                raise Invalid(
                    f"รายการที่ {expected} ไม่ตรงกับค่าแฮชของมัน", f"entry {expected} does not match its leaf hash", expected
                )
            hashes.append(stated)
    return hashes


async def _first_bad_leaf(log: Log, hashes: list[bytes], checkpoint: Checkpoint) -> int | None:
    """When the recomputed root is wrong, the first leaf whose inclusion in the signed tree fails."""
    for index, value in enumerate(hashes):
        proof = await log.proof("/proofs/inclusion", index=index, tree_size=checkpoint.size)
        if not verify_inclusion(index, checkpoint.size, value, proof, checkpoint.root):
            return index
    return None


async def _check_entries(log: Log, checkpoint: Checkpoint, sample: int, report: Report) -> None:
    hashes = await _leaf_hashes(log, checkpoint.size)
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
        raise Invalid(
            f"บันทึกขนาด {checkpoint.size} ไม่ได้ต่อจากจุดตรวจสอบขนาด {old.size} ที่บันทึกไว้",
            f"the log of {checkpoint.size} does not extend the saved checkpoint of {old.size}",
        )
    report.checks.append(f"extends the saved checkpoint of {old.size}")


def _load_state(path: Path | None) -> dict:
    if path is None or not path.exists():
        return {}
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise CannotCheck("อ่านไฟล์สถานะไม่ได้", f"cannot read the state file: {exc}") from exc


def _save_state(path: Path, key: VerifierKey, note: str) -> None:
    text = verifier_key_text(key.name, key.public_key)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps({"public_key": text, "checkpoint": note}, indent=2), "utf-8")
    tmp.replace(path)


async def _run_checks(args, client: httpx.AsyncClient) -> Report:
    log, report = Log(client), Report()
    state_path = Path(args.state) if args.state else None
    state = _load_state(state_path)
    key = await _key(log, args.public_key, state)
    checkpoint = await _checkpoint(log, key)
    report.checkpoint = checkpoint
    report.checks.append(f"checkpoint of {checkpoint.size} entries signed by {key.name}")
    if args.command == "verify":
        await _check_entries(log, checkpoint, args.sample, report)
    await _check_extends(log, key, state, checkpoint, report)
    if state_path is not None:
        # The note is fetched again only to keep its exact text; it must be the one just checked.
        note = await log.text("/checkpoint")
        if verify_checkpoint(note, key) == checkpoint:
            _save_state(state_path, key, note)
    return report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sarabun-audit", description="ตรวจสอบบันทึกการตรวจสอบ (verify the audit log)")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("verify", "monitor"):
        command = commands.add_parser(name)
        command.add_argument("--url", required=True, help="the gateway, e.g. http://localhost:8000")
        command.add_argument("--token", required=True, help="a bearer token of an auditor")
        command.add_argument("--public-key", help="the log's verifier key, name+keyid+key")
        command.add_argument("--state", required=name == "monitor", help="file keeping the last trusted checkpoint")
        command.add_argument("--json", action="store_true", help="one JSON object on stdout")
        if name == "verify":
            command.add_argument("--sample", type=int, default=20, help="inclusion proofs to check")
    return parser


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
    headers = {"Authorization": f"Bearer {args.token}"}
    try:
        async with httpx.AsyncClient(base_url=args.url, headers=headers, transport=transport, timeout=30) as client:
            report = await _run_checks(args, client)
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
