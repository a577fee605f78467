"""The composition root: the one module that knows every service. It builds them from settings and runs
them all in one process (embedded mode) or one per process (distributed mode). Services never import each
other; only this launcher puts them side by side.

    sarabun run                  everything in one process (SQLite, memory bus, local folder by default)
    sarabun serve NAME [--port]  one of gateway, intake, routing, storage, audit
    sarabun seed [--demo]        the sample directory, and with --demo the demo users
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

from pydantic import ValidationError

from shared.bus import Bus, connect_bus
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
}
NAMES = tuple(BOOTSTRAPS)


def bootstrap(name: str):
    return importlib.import_module(BOOTSTRAPS[name])


def _bus(settings: Settings) -> Bus:
    return connect_bus(
        settings.bus_url, max_attempts=settings.consumer_max_attempts, retry_seconds=settings.consumer_retry_seconds
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

    deployment = Deployment(settings, ("routing", "gateway"))
    await upgrade(deployment.services["routing"].db, deployment.services["routing"].migrations)
    await seed_directory(deployment.services["routing"].db)
    await seed_groups(deployment.services["routing"].db)
    if demo:
        await upgrade(deployment.gateway.db, deployment.gateway.migrations)
        await bootstrap("gateway").seed_users(deployment.gateway.db, settings.demo_password)
    for runtime in deployment.runtimes:
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
    setup_logging(settings.log_level, settings.library_log_level)
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
    if args.command == "run":
        log.info("embedded mode: gateway on http://%s:%d", settings.host, settings.port)
        _serve(embedded(settings), settings.host, settings.port)
        return 0
    port = args.port or (settings.port if args.name == "gateway" else SERVICE_PORTS[args.name])
    _serve(Deployment(settings, (args.name,)), settings.host, port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
