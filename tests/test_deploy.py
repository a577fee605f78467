"""The deployment files agree with the code: docker-compose.yml runs commands the launcher understands, in a
safe order, with health checks; deploy/rabbitmq/definitions.json declares exactly the topology the services
declare; the shell scripts parse."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from shared.contracts import EXCHANGE
from shared.settings import SERVICE_PORTS, Settings
from shared.topology import QUEUES, RETRY_DELAY_MS, dead_letter_queue, retry_queue

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DEFINITIONS = ROOT / "deploy" / "rabbitmq" / "definitions.json"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
SCRIPTS = [
    ROOT / "deploy" / "local" / "up.sh",
    ROOT / "deploy" / "local" / "down.sh",
    ROOT / "deploy" / "minio" / "create-bucket.sh",
    ROOT / ".ci" / "run",
]
INFRA = ("postgres", "rabbitmq", "minio")
SARABUN_SERVICES = set(SERVICE_PORTS)


@pytest.fixture(scope="module")
def parser():
    from services.launcher import build_parser

    return build_parser()


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def definitions() -> dict:
    return json.loads(DEFINITIONS.read_text(encoding="utf-8"))


def app_services(compose: dict) -> dict[str, dict]:
    """The containers that run Sarabun itself (built from deploy/Dockerfile)."""
    return {name: spec for name, spec in compose["services"].items() if "build" in spec}


def one_shot(compose: dict) -> set[str]:
    """Services others wait for to finish (service_completed_successfully): they need no health check."""
    return {
        dependency
        for spec in compose["services"].values()
        for dependency, rule in (spec.get("depends_on") or {}).items()
        if isinstance(rule, dict) and rule.get("condition") == "service_completed_successfully"
    }


def with_defaults(value: str) -> str:
    """Compose interpolation as it happens with nothing set in the environment: ${VAR:-default} -> default."""
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", str(value))


def environment(spec: dict) -> dict[str, str]:
    env = spec.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: with_defaults(value) for key, value in env.items()}


# --- docker-compose.yml --------------------------------------------------------------------------------------


def test_every_sarabun_process_is_in_compose(compose):
    commands = {spec["command"][1] for spec in app_services(compose).values()}
    assert commands == SARABUN_SERVICES


def test_app_commands_parse_with_the_launcher(compose, parser):
    for name, spec in app_services(compose).items():
        command = spec["command"]
        assert isinstance(command, list), f"{name}: use the exec form for command"
        assert command[0] == "serve", f"{name}: {command}"
        assert command[1] in SARABUN_SERVICES, f"{name}: {command[1]!r} is not a Sarabun service"
        parsed = parser.parse_args([str(part) for part in command])
        assert command[1] in vars(parsed).values(), f"{name}: the parser did not take the service name"


def test_launcher_rejects_an_unknown_service(parser, capsys):
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "no-such-service"])


def test_local_and_image_commands_parse(parser):
    for name, port in SERVICE_PORTS.items():
        parser.parse_args(["serve", name, "--port", str(port)])  # deploy/local/up.sh
    for command in (["run"], ["topology"], ["seed", "--demo"]):
        parser.parse_args(command)


def test_every_long_running_service_has_a_healthcheck(compose):
    exempt = one_shot(compose)
    for name, spec in compose["services"].items():
        if name in exempt:
            continue
        check = spec.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_app_healthchecks_ask_readyz_on_their_own_port(compose):
    for name, spec in app_services(compose).items():
        service = spec["command"][1]
        test = " ".join(spec["healthcheck"]["test"])
        assert f":{SERVICE_PORTS[service]}/readyz" in test, f"{name}: {test}"


def test_apps_wait_for_healthy_infrastructure(compose):
    for name, spec in app_services(compose).items():
        depends = spec.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        for infra in INFRA:
            assert depends.get(infra, {}).get("condition") == "service_healthy", f"{name} -> {infra}"
        for setup in one_shot(compose):
            assert depends.get(setup, {}).get("condition") == "service_completed_successfully", f"{name} -> {setup}"


def test_one_shot_setup_waits_for_its_server(compose):
    for name in one_shot(compose):
        depends = compose["services"][name].get("depends_on") or {}
        assert any(rule.get("condition") == "service_healthy" for rule in depends.values()), name


def test_gateway_publishes_its_port_and_starts_after_the_services(compose):
    gateway = next(spec for spec in app_services(compose).values() if spec["command"][1] == "gateway")
    ports = [with_defaults(port) for port in gateway.get("ports") or []]
    assert ports, "the gateway publishes no port"
    published, _, container = ports[0].rpartition(":")
    assert published == "8000"
    assert container == environment(gateway).get("SARABUN_PORT", str(SERVICE_PORTS["gateway"]))
    for service in SARABUN_SERVICES - {"gateway"}:
        assert gateway["depends_on"][service]["condition"] == "service_healthy"
    for name, spec in app_services(compose).items():
        if spec is not gateway:
            assert not spec.get("ports"), f"{name} should be reachable only inside the compose network"


def test_app_environment_points_at_the_compose_servers(compose):
    for name, spec in app_services(compose).items():
        env = environment(spec)
        assert urlsplit(env["SARABUN_DATABASE_URL"]).hostname == "postgres", name
        assert env["SARABUN_DATABASE_URL"].startswith("postgresql+asyncpg://"), name
        assert urlsplit(env["SARABUN_BUS_URL"]).hostname == "rabbitmq", name
        assert urlsplit(env["SARABUN_STORAGE_URL"]).hostname == "minio", name
        assert env["SARABUN_HOST"] == "0.0.0.0", f"{name} must listen on all interfaces in its container"
        urls = {
            "intake": env["SARABUN_INTAKE_URL"],
            "routing": env["SARABUN_ROUTING_URL"],
            "storage": env["SARABUN_STORAGE_URL_INTERNAL"],
            "audit": env["SARABUN_AUDIT_URL"],
        }
        for service, url in urls.items():
            assert (urlsplit(url).hostname, urlsplit(url).port) == (service, SERVICE_PORTS[service]), name


def test_storage_credentials_match_minio(compose):
    minio = environment(compose["services"]["minio"])
    for name, spec in app_services(compose).items():
        url = urlsplit(environment(spec)["SARABUN_STORAGE_URL"])
        assert (url.username, url.password) == (minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"]), name


def test_demo_secrets_are_accepted_only_in_demo_mode(compose, monkeypatch):
    for key in list(os.environ):
        if key.startswith("SARABUN_"):
            monkeypatch.delenv(key)
    env = environment(next(iter(app_services(compose).values())))
    assert env["SARABUN_DEMO"] == "1", "compose defaults to demo mode"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    Settings()
    monkeypatch.setenv("SARABUN_DEMO", "0")
    with pytest.raises(ValueError):
        Settings()


def test_rabbitmq_loads_the_definitions(compose):
    rabbitmq = compose["services"]["rabbitmq"]
    mounts = {volume.split(":")[0]: volume.split(":")[1] for volume in rabbitmq["volumes"]}
    assert mounts.get("./deploy/rabbitmq/definitions.json") == "/etc/rabbitmq/definitions.json"
    conf = (ROOT / "deploy" / "rabbitmq" / "rabbitmq.conf").read_text(encoding="utf-8")
    assert re.search(r"^load_definitions\s*=\s*/etc/rabbitmq/definitions\.json\s*$", conf, re.MULTILINE)
    assert "./deploy/rabbitmq/rabbitmq.conf" in mounts


def test_dockerfile_runs_the_launcher_as_a_normal_user(parser):
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim", text, re.MULTILINE)
    assert re.search(r'^ENTRYPOINT \["sarabun"\]$', text, re.MULTILINE)
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    default = re.search(r"^CMD (\[.*\])$", text, re.MULTILINE)
    if default:
        parser.parse_args(json.loads(default.group(1)))


# --- deploy/rabbitmq/definitions.json ----------------------------------------------------------------


def expected_topology() -> tuple[set, dict, set]:
    """What every process declares on connect (shared/bus/rabbitmq.py), computed from shared/topology.py."""
    exchanges = {(EXCHANGE, "topic", True)}
    queues: dict[str, tuple[bool, dict]] = {}
    bindings = set()
    for queue, keys in QUEUES.items():
        queues[queue] = (True, {"x-queue-type": "quorum"})
        queues[retry_queue(queue)] = (
            True,
            {"x-message-ttl": RETRY_DELAY_MS, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue},
        )
        queues[dead_letter_queue(queue)] = (True, {"x-queue-type": "quorum"})
        bindings |= {(EXCHANGE, queue, key) for key in keys}
    return exchanges, queues, bindings


def actual_topology(definitions: dict) -> tuple[set, dict, set]:
    exchanges = {(item["name"], item["type"], item["durable"]) for item in definitions.get("exchanges", [])}
    queues = {item["name"]: (item["durable"], item.get("arguments") or {}) for item in definitions.get("queues", [])}
    bindings = {
        (item["source"], item["destination"], item["routing_key"])
        for item in definitions.get("bindings", [])
        if item.get("destination_type", "queue") == "queue"
    }
    return exchanges, queues, bindings


def test_definitions_declare_the_topology(definitions):
    exchanges, queues, bindings = expected_topology()
    got_exchanges, got_queues, got_bindings = actual_topology(definitions)
    assert got_exchanges == exchanges
    assert set(got_queues) == set(queues), "queue names (each with its .retry and .dlq)"
    assert got_queues == queues, "queue arguments must equal what the services declare, or declaring fails"
    assert got_bindings == bindings


def test_definitions_are_usable_on_a_fresh_broker(definitions):
    """Importing definitions at boot skips RabbitMQ's default vhost and user, so the file must bring both."""
    vhosts = {item["name"] for item in definitions.get("vhosts", [])}
    assert "/" in vhosts
    for section in ("exchanges", "queues", "bindings"):
        assert {item["vhost"] for item in definitions[section]} <= vhosts, section
    users = {item["name"] for item in definitions.get("users", [])}
    granted = {item["user"] for item in definitions.get("permissions", []) if item["vhost"] == "/"}
    assert users & granted, "no user may use the / vhost"


def test_definitions_match_the_launchers_topology_command():
    """`sarabun topology` generates the file; the two must not drift apart."""
    result = subprocess.run(
        [sys.executable, "-m", "services.launcher", "topology"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SARABUN_DEMO": "1"},
    )
    assert result.returncode == 0, result.stderr
    generated = json.loads(result.stdout)
    on_disk = json.loads(DEFINITIONS.read_text(encoding="utf-8"))
    assert actual_topology(generated) == actual_topology(on_disk)


# --- shell scripts -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_shell_script_syntax(script):
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    result = subprocess.run([bash, "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_ci_entry_point_is_executable():
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
