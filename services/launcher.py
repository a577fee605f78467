"""The composition root: the one module that knows every service. It builds them from settings and runs
them all in one process (embedded mode) or one per process (distributed mode). Services never import each
other; only this launcher puts them side by side.

    sarabun run                  everything in one process (SQLite, memory bus, local folder by default)
    sarabun serve NAME [--port]  one of gateway, intake, routing, storage, audit, notify
    sarabun seed [--demo]        the sample directory, and with --demo the demo users
    sarabun directory import FILE [--dry-run]               the whole directory from CSV or JSON
    sarabun directory export [--format json|csv] [--out FILE]  the directory in the same format
    sarabun topology             RabbitMQ definitions for deploy/rabbitmq/definitions.json
    sarabun admin create USERNAME [--display-name TEXT] [--org KEY] [--link]
                                 the first administrator, on a fresh production database too
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import importlib
import json
import logging
import sys
from pathlib import Path

import httpx
from pydantic import ValidationError

from shared.bus import Batching, Bus, connect_bus
from shared.inprocess import StreamingASGITransport
from shared.runtime import ServiceRuntime
from shared.settings import SERVICE_PORTS, Settings
from shared.topology import QUEUES, RETRY_DELAY_MS, dead_letter_queue, retry_queue
from shared.web import setup_logging

log = logging.getLogger("sarabun.launcher")

# Imported only when built, so a process serving one service loads only that service's libraries.
BOOTSTRAPS = {
    "gateway": "gateway.bootstrap",
    "intake": "services.intake.bootstrap",
    "routing": "services.routing.bootstrap",
    "storage": "services.storage.bootstrap",
    "audit": "services.audit.bootstrap",
    "notify": "services.notify.bootstrap",
}
NAMES = tuple(BOOTSTRAPS)
READY_WITHIN = 30.0  # seconds an embedded deployment waits at start for every part to be ready


def bootstrap(name: str):
    return importlib.import_module(BOOTSTRAPS[name])


def _bus(settings: Settings) -> Bus:
    batching = Batching(settings.consumer_batch_messages, settings.consumer_batch_wait_ms / 1000)
    return connect_bus(
        settings.bus_url,
        max_attempts=settings.consumer_max_attempts,
        retry_seconds=settings.consumer_retry_seconds,
        batching=batching,
    )


class Deployment:
    """Some services (and maybe the gateway) sharing one process and one bus connection."""

    def __init__(self, settings: Settings, names: tuple[str, ...]):
        self.settings = settings
        self.bus = _bus(settings)
        self.services = {name: bootstrap(name).build(settings, self.bus) for name in names if name != "gateway"}
        self.gateway: ServiceRuntime | None = None
        if "gateway" in names:
            # In one process the gateway reaches the services through their ASGI apps, still over HTTP.
            transports = {n: StreamingASGITransport(rt.app) for n, rt in self.services.items()} or None
            self.gateway = bootstrap("gateway").build(settings, self.bus, transports)

    @property
    def runtimes(self) -> list[ServiceRuntime]:
        return [*self.services.values(), *([self.gateway] if self.gateway else [])]

    @property
    def app(self):
        return (self.gateway or next(iter(self.services.values()))).app

    async def start(self) -> None:
        await self.bus.connect()
        for runtime in self.runtimes:
            await runtime.start()
        if self.gateway and self.services:
            await self._until_ready()

    async def _until_ready(self, within: float = READY_WITHIN) -> None:
        """Everything in one process: starting ends once the gateway's /readyz (which asks every service's)
        says ready, so the first request finds each part in its starting state; in demo mode, intake with the
        sample directory routing has just seeded and announced. If that takes too long it is logged and
        serving starts anyway: /readyz keeps telling the truth."""
        transport = StreamingASGITransport(self.gateway.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sarabun") as client:
            deadline = asyncio.get_running_loop().time() + within
            while (answer := await client.get("/readyz")).status_code != 200:
                if asyncio.get_running_loop().time() > deadline:
                    log.warning("not ready %.0fs after starting: %s", within, answer.text)
                    return
                await asyncio.sleep(0.02)

    async def stop(self) -> None:
        for runtime in reversed(self.runtimes):
            await runtime.stop()
        await self.bus.close()


def embedded(settings: Settings) -> Deployment:
    return Deployment(settings, NAMES)


def _serve(deployment: Deployment, host: str, port: int) -> None:
    import uvicorn

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        await deployment.start()
        try:
            yield
        finally:
            await deployment.stop()

    app = deployment.app
    app.router.lifespan_context = lifespan
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


async def _seed(settings: Settings, demo: bool) -> None:
    from services.routing.service import seed_directory, seed_groups
    from shared.migrate import upgrade

    deployment = Deployment(settings, ("routing",))
    routing = deployment.services["routing"]
    runtimes = [routing]
    await upgrade(routing.db, routing.migrations)
    await seed_directory(routing.db)
    await seed_groups(routing.db)
    if demo:
        # Seeding users calls no service, so the gateway is built without reaching them.
        gateway = bootstrap("gateway").build(settings, deployment.bus)
        runtimes.append(gateway)
        await upgrade(gateway.db, gateway.migrations)
        await bootstrap("gateway").seed_users(gateway.db, settings.demo_password)
    for runtime in runtimes:
        await runtime.stop()


class AdminRefused(Exception):
    """`sarabun admin create` cannot go on; the message says why (exit status 2)."""


async def _create_admin(settings: Settings, args: argparse.Namespace, read_password) -> str:
    """Makes an administrator in the gateway's database (migrated first) and answers what to tell the
    operator. With --org, the unit is looked up in routing's directory; without it the administrator belongs
    to no unit until one is given (e.g. after the directory is imported). The creation is an audit event
    with the actor `cli`, published when the gateway next runs."""
    from gateway.adapters.repository import UserRepository
    from gateway.people import rules
    from gateway.people.service import People
    from shared.migrate import upgrade
    from shared.problems import Problem

    try:
        username = rules.username(args.username)
        display_name = rules.text("display_name", args.display_name or username, required=True)
    except rules.Invalid as invalid:
        raise AdminRefused(invalid.message) from None
    deployment = Deployment(settings, ("gateway",))
    try:
        gateway = deployment.gateway
        await upgrade(gateway.db, gateway.migrations)
        async with gateway.db.read() as session:
            if await UserRepository(session).get(username):
                raise AdminRefused(f"a user named {username!r} already exists; nothing was changed")
        org_id = await _unit_of(settings, args.org) if args.org else None
        password_hash = None if args.link else await _admin_password(settings, read_password)
        account = rules.Account(
            username=username, display_name=display_name, org_id=org_id, roles=["admin"], clearance="normal"
        )
        people = People(gateway.db, on_change=lambda: None)
        try:
            await people.create("cli", account, password_hash)
        except Problem as problem:  # made by someone else meanwhile
            raise AdminRefused(f"a user named {username!r} already exists; nothing was changed") from problem
        if not args.link:
            return f"administrator {username} created; sign in with the password given"
        token, expires_at = await people.issue_link("cli", username)
        base = settings.public_url or f"http://{settings.host}:{settings.port}"
        return f"{base.rstrip('/')}/auth/link/{token}\n(one use, until {expires_at.isoformat()})"
    finally:
        for runtime in deployment.runtimes:
            await runtime.stop()


async def _unit_of(settings: Settings, key: str):
    """The id of a unit of routing's directory, read from its database (migrated first)."""
    from services.routing.adapters.repository import DirectoryRepository
    from shared.migrate import upgrade

    routing = Deployment(settings, ("routing",)).services["routing"]
    try:
        await upgrade(routing.db, routing.migrations)
        async with routing.db.read() as session:
            units = await DirectoryRepository(session).all()
    finally:
        await routing.stop()
    for unit in units:
        if unit["key"] == key:
            return unit["id"]
    raise AdminRefused(f"no unit with the key {key!r} in the directory; import the directory first or leave out --org")


async def _admin_password(settings: Settings, read_password) -> str:
    from gateway.auth import hash_password
    from gateway.people import rules

    if not settings.local_passwords:
        raise AdminRefused("local passwords are switched off (SARABUN_LOCAL_PASSWORDS=false): use --link")
    password = read_password()
    try:
        rules.password(password)
    except rules.Invalid as invalid:
        raise AdminRefused(invalid.message) from None
    return await asyncio.to_thread(hash_password, password)


def read_password() -> str:
    """From standard input when it is not a terminal (one line), else asked twice without echo."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise AdminRefused("the two passwords differ; nothing was changed")
    return first


async def _directory(settings: Settings, args: argparse.Namespace) -> int:
    """Import or export the directory straight on routing's database (migrated first), as the actor `cli`.
    Events of an import wait in routing's outbox until routing runs and publishes them."""
    from shared.migrate import upgrade

    deployment = Deployment(settings, ("routing",))
    routing = deployment.services["routing"]
    try:
        await upgrade(routing.db, routing.migrations)
        if args.action == "import":
            return await _import_directory(routing.db, args.file, args.dry_run)
        return await _export_directory(routing.db, args.format, args.out)
    finally:
        await routing.stop()


async def _import_directory(db, path: Path, dry_run: bool) -> int:
    from services.routing.domain.directory import parse_file
    from services.routing.service import import_directory
    from shared.problems import Problem

    try:
        content = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        print(f"sarabun: อ่านไฟล์ไม่ได้ (cannot read the file): {exc}", file=sys.stderr)
        return 2
    units, errors = parse_file(content, path.name)
    try:
        if errors:
            raise Problem(422, f"ไฟล์มีข้อผิดพลาด {len(errors)} แห่ง (the file has {len(errors)} errors)", errors=errors)
        answer = await import_directory(db, units, dry_run, actor="cli")
    except Problem as refused:
        print(f"sarabun: {refused.detail}", file=sys.stderr)
        for error in refused.errors or []:
            where = f"แถว {error['row']}" if error.get("row") else "ไฟล์"
            field = f" [{error['field']}]" if error.get("field") else ""
            print(f"  {where}{field}: {error['message']}", file=sys.stderr)
        return 2
    print(describe_import(answer, {unit.key: unit for unit in units}))
    return 0


def describe_import(answer: dict, units: dict) -> str:
    """The diff in plain words, one unit a line."""
    counts = (len(answer["added"]), len(answer["changed"]), len(answer["retired"]))
    if answer["applied"]:
        head = "นำเข้าทะเบียนหน่วยงานแล้ว: เพิ่ม {} แก้ไข {} ยุติ {} (imported: {} added, {} changed, {} retired)"
    else:
        head = "ทดลองนำเข้า ยังไม่ได้เปลี่ยนแปลงสิ่งใด: จะเพิ่ม {} แก้ไข {} ยุติ {} (dry run: {} to add, {} to change, {} to retire)"
    lines = [head.format(*counts, *counts)]
    lines += [f"  + {key}  {units[key].name}" for key in answer["added"]]
    lines += [f"  ~ {key}  ({', '.join(answer['changed_fields'].get(key, []))})" for key in answer["changed"]]
    lines += [f"  - {key}" for key in answer["retired"]]
    if not any(counts):
        lines.append("  ไม่มีการเปลี่ยนแปลง (no changes)")
    return "\n".join(lines)


async def _export_directory(db, format_: str | None, out: Path | None) -> int:
    from services.routing.domain.directory import to_csv, to_json
    from services.routing.service import export_directory

    format_ = format_ or ("csv" if out and out.suffix.lower() == ".csv" else "json")
    units = await export_directory(db)
    text = to_csv(units) if format_ == "csv" else json.dumps(to_json(units), ensure_ascii=False, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        await asyncio.to_thread(out.write_text, text, encoding="utf-8", newline="")
        print(f"ส่งออกทะเบียนหน่วยงาน {len(units)} หน่วยงานไปที่ {out} (exported {len(units)} units)", file=sys.stderr)
    return 0


def topology() -> dict:
    """RabbitMQ definitions equal to what every process declares on connect."""
    queues, bindings = [], []
    for name, keys in QUEUES.items():
        queues.append(
            {"name": name, "vhost": "/", "durable": True, "auto_delete": False, "arguments": {"x-queue-type": "quorum"}}
        )
        queues.append(
            {
                "name": retry_queue(name),
                "vhost": "/",
                "durable": True,
                "auto_delete": False,
                "arguments": {
                    "x-message-ttl": RETRY_DELAY_MS,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": name,
                },
            }
        )
        queues.append(
            {
                "name": dead_letter_queue(name),
                "vhost": "/",
                "durable": True,
                "auto_delete": False,
                "arguments": {"x-queue-type": "quorum"},
            }
        )
        bindings += [
            {
                "source": "sarabun.events",
                "vhost": "/",
                "destination": name,
                "destination_type": "queue",
                "routing_key": key,
                "arguments": {},
            }
            for key in keys
        ]
    exchange = {
        "name": "sarabun.events",
        "vhost": "/",
        "type": "topic",
        "durable": True,
        "auto_delete": False,
        "internal": False,
        "arguments": {},
    }
    return {"exchanges": [exchange], "queues": queues, "bindings": bindings}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sarabun", description="ระบบสารบรรณอิเล็กทรอนิกส์ Sarabun")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="everything in one process")
    serve = commands.add_parser("serve", help="one service as its own process")
    serve.add_argument("name", choices=NAMES)
    serve.add_argument("--port", type=int)
    seed = commands.add_parser("seed", help="load the sample directory (and demo users with --demo)")
    seed.add_argument("--demo", action="store_true")
    commands.add_parser("topology", help="print RabbitMQ definitions")
    admin = commands.add_parser("admin", help="administrators").add_subparsers(dest="admin_command", required=True)
    create = admin.add_parser("create", help="make an administrator (the password from standard input or a prompt)")
    create.add_argument("username")
    create.add_argument("--display-name")
    create.add_argument("--org", help="the key of the administrator's unit in the directory")
    create.add_argument("--link", action="store_true", help="print a one-time sign-in link instead of a password")
    directory = commands.add_parser("directory", help="import or export the directory of agencies")
    actions = directory.add_subparsers(dest="action", required=True)
    load = actions.add_parser("import", help="the whole directory from a CSV or JSON file (units left out retire)")
    load.add_argument("file", type=Path)
    load.add_argument("--dry-run", action="store_true", help="show what would change and change nothing")
    dump = actions.add_parser("export", help="the directory in the format import takes")
    dump.add_argument("--format", choices=("json", "csv"), help="default: by the --out name, else json")
    dump.add_argument("--out", type=Path, help="default: standard output")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "topology":
        print(json.dumps(topology(), indent=2, ensure_ascii=False))
        return 0
    try:
        settings = Settings(demo=True) if getattr(args, "demo", False) else Settings()
    except ValidationError as exc:
        print(f"sarabun: configuration refused: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 2
    # The commands that talk to a person show only warnings, not every migration step.
    quiet = args.command in ("directory", "admin")
    setup_logging("WARNING" if quiet else settings.log_level, settings.library_log_level)
    if args.command == "seed":
        asyncio.run(_seed(settings, args.demo))
        return 0
    if args.command == "admin":
        try:
            print(asyncio.run(_create_admin(settings, args, read_password)))
        except AdminRefused as refused:
            print(f"sarabun admin create: {refused}", file=sys.stderr)
            return 2
        return 0
    if args.command == "directory":
        return asyncio.run(_directory(settings, args))
    if args.command == "run":
        log.info("embedded mode: gateway on http://%s:%d", settings.host, settings.port)
        _serve(embedded(settings), settings.host, settings.port)
        return 0
    port = args.port or (settings.port if args.name == "gateway" else SERVICE_PORTS[args.name])
    _serve(Deployment(settings, (args.name,)), settings.host, port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
