"""The deployment files agree with the code: docker-compose.yml runs commands the launcher understands, in a
safe order, with health checks; deploy/rabbitmq/definitions.json declares exactly the topology the services
declare; the shell scripts parse."""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest
import yaml

from conftest import missing
from shared.contracts import EXCHANGE
from shared.settings import DEMO_PASSWORD, DEMO_SECRET, SERVICE_PORTS, Settings
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


VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}")
# Secrets as an operator writes them into .env (.env.example says how to generate each).
DOT_ENV = {
    "SARABUN_JWT_SECRET": "j" * 48,
    "SARABUN_SERVICE_SECRET": "s" * 48,
    "SARABUN_AUDIT_SIGNING_KEY": base64.b64encode(bytes(range(32))).decode(),
    "POSTGRES_PASSWORD": "pg-password",
    "MINIO_ROOT_USER": "sarabun",
    "MINIO_ROOT_PASSWORD": "minio-password",
}


class MissingSetting(Exception):
    """What `docker compose` refuses with when a ${VAR:?message} variable is unset or empty."""


def interpolate(value, env: dict[str, str]) -> str:
    """Compose interpolation: ${VAR:-default}, ${VAR:?message} (refused when unset or empty) and ${VAR}."""

    def one(match: re.Match) -> str:
        name, kind, rest = match.groups()
        given = env.get(name, "")
        if kind == "?" and not given:
            raise MissingSetting(f"{name}: {rest}")
        if kind == "-" and not given:
            return rest
        return given

    return VARIABLE.sub(one, str(value))


def with_defaults(value: str) -> str:
    return interpolate(value, DOT_ENV)


def environment(spec: dict, env: dict[str, str] = DOT_ENV) -> dict[str, str]:
    """A container's environment as compose gives it: a key without a value is passed on only when set."""
    raw = spec.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) if "=" in item else (item, None) for item in raw)
    return {
        key: interpolate(value, env) if value is not None else env[key]
        for key, value in raw.items()
        if value is not None or key in env
    }


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
            "notify": env["SARABUN_NOTIFY_URL"],
        }
        for service, url in urls.items():
            assert (urlsplit(url).hostname, urlsplit(url).port) == (service, SERVICE_PORTS[service]), name


def test_storage_credentials_match_minio(compose):
    minio = environment(compose["services"]["minio"])
    for name, spec in app_services(compose).items():
        url = urlsplit(environment(spec)["SARABUN_STORAGE_URL"])
        assert (url.username, url.password) == (minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"]), name


def test_compose_refuses_to_start_without_its_secrets(compose):
    audit = compose["services"]["audit"]
    for secret in ("SARABUN_JWT_SECRET", "SARABUN_SERVICE_SECRET", "SARABUN_AUDIT_SIGNING_KEY", "POSTGRES_PASSWORD"):
        with pytest.raises(MissingSetting, match=secret):
            environment(audit, {**DOT_ENV, secret: ""})
    with pytest.raises(MissingSetting, match="MINIO_ROOT_PASSWORD"):
        environment(compose["services"]["minio"], {**DOT_ENV, "MINIO_ROOT_PASSWORD": ""})


def test_compose_runs_outside_demo_mode_with_the_secrets_of_dot_env(compose, monkeypatch):
    for key in list(os.environ):
        if key.startswith("SARABUN_"):
            monkeypatch.delenv(key)
    for name, spec in app_services(compose).items():
        env = environment(spec)
        assert env["SARABUN_DEMO"] == "0", f"{name}: compose defaults to a real deployment"
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        assert not settings.demo and settings.jwt_secret == DOT_ENV["SARABUN_JWT_SECRET"]
        if spec["command"][1] == "audit":
            assert settings.audit_signing_seed() == bytes(range(32))
        else:
            assert "SARABUN_AUDIT_SIGNING_KEY" not in env, f"{name}: only the audit service holds the signing key"
        for key in env:
            monkeypatch.delenv(key)


def test_optional_settings_reach_the_containers_only_when_set(compose):
    gateway = next(spec for spec in app_services(compose).values() if spec["command"][1] == "gateway")
    assert "SARABUN_OIDC_ISSUER" not in environment(gateway), "unset stays unset, not an empty string"
    issuer = "https://idp.example.go.th/realms/agency"
    assert environment(gateway, {**DOT_ENV, "SARABUN_OIDC_ISSUER": issuer})["SARABUN_OIDC_ISSUER"] == issuer


def test_no_secret_is_written_in_the_compose_file(compose):
    text = COMPOSE.read_text(encoding="utf-8")
    assert DEMO_SECRET not in text and DEMO_PASSWORD not in text
    secret = re.compile(r"(SECRET|PASSWORD|SIGNING_KEY)$")
    for name, spec in compose["services"].items():
        raw = spec.get("environment") or {}
        for key, value in raw.items():
            if secret.search(key):
                assert value is None or re.fullmatch(rf"\$\{{{key}:\?[^}}]+\}}", str(value)), f"{name}: {key}={value}"
    for url_key in ("SARABUN_DATABASE_URL", "SARABUN_STORAGE_URL"):
        for name, spec in app_services(compose).items():
            password = urlsplit(interpolate(spec["environment"][url_key], {k: f"<{k}>" for k in DOT_ENV})).password
            assert password and password.startswith("<"), f"{name}: {url_key} carries a literal password"


def test_dot_env_example_documents_every_variable_and_dot_env_is_ignored(compose):
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    used = {match[0] for match in VARIABLE.findall(COMPOSE.read_text(encoding="utf-8"))}
    for spec in compose["services"].values():
        used |= {key for key, value in (spec.get("environment") or {}).items() if value is None}
    assert used - documented == set(), "every variable compose reads is explained in .env.example"
    for line in example.splitlines():
        if re.match(r"^(SARABUN_[A-Z_]*(SECRET|KEY)|[A-Z_]*PASSWORD)=", line):
            assert line.endswith("="), f"no secret value in the committed example: {line}"
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in ignored and ".env.example" not in ignored
    not_in_image = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in not_in_image, "the secrets never go into the image's build context"


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
        missing("bash")
    result = subprocess.run([bash, "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_ci_entry_point_is_executable():
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


# --- Makefile ------------------------------------------------------------------------------------------------


def make_plan(target: str, venv: Path) -> str:
    """The commands `make TARGET` would run with its virtualenv at VENV (make -n runs nothing)."""
    make = shutil.which("make")
    if make is None:
        missing("make")
    result = subprocess.run([make, "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_run_installs_only_what_running_needs(tmp_path):
    plan = make_plan("run", tmp_path / "venv")
    assert "pip install -e ." in plan and "[dev]" not in plan
    assert "sarabun run" in plan


@pytest.mark.parametrize("target", ["test", "lint", "test-fuzz", "test-faults", "bench", "screenshots"])
def test_the_developer_targets_install_the_dev_extras(tmp_path, target):
    assert "pip install -e '.[dev]'" in make_plan(target, tmp_path / "venv")


def test_an_installed_dev_environment_is_not_installed_again_for_run(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    later = (ROOT / "pyproject.toml").stat().st_mtime + 60
    for name in ("bin/python", ".installed-dev", ".installed-run"):
        (venv / name).touch()
        os.utime(venv / name, (later, later))
    assert "pip install" not in make_plan("run", venv)
    assert "pip install" not in make_plan("test", venv)


def test_make_screenshots_is_the_only_way_to_the_tracked_screenshots():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "SARABUN_SCREENSHOTS=$(CURDIR)/docs/screenshots" in makefile
    from tests.browser import conftest as browser

    assert browser.SCREENSHOTS.resolve() != (ROOT / "docs" / "screenshots").resolve() or os.environ.get(
        "SARABUN_SCREENSHOTS"
    ), "a plain test run writes its screenshots outside the working tree"


# --- deploy/local: a deployment remembers its settings ------------------------------------------------------

UP = ROOT / "deploy" / "local" / "up.sh"
DOWN = ROOT / "deploy" / "local" / "down.sh"
FINGERPRINT = ROOT / "deploy" / "local" / "fingerprint.py"
LOCAL = {
    "SARABUN_DEMO": "0",
    "SARABUN_DATABASE_URL": "postgresql+asyncpg://sarabun:db-password-1@127.0.0.1:5432/sarabun",
    "SARABUN_BUS_URL": "amqp://sarabun:bus-password-1@127.0.0.1:5672/",
    "SARABUN_STORAGE_URL": "s3://access:storage-password-1@127.0.0.1:9000/sarabun",
    "SARABUN_JWT_SECRET": "jwt-secret-" + "x" * 40,
    "SARABUN_SERVICE_SECRET": "service-secret-" + "y" * 40,
    "SARABUN_AUDIT_SIGNING_KEY": base64.b64encode(bytes(32)).decode(),
}


def local_env(tmp_path: Path, **changes: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SARABUN_")}
    env.update(LOCAL, SARABUN_DATA_DIR=str(tmp_path / "data"), SARABUN_LOCAL_DIR=str(tmp_path / "local"))
    env.update(changes)
    return env


def load_fingerprint():
    spec = importlib.util.spec_from_file_location("fingerprint", FINGERPRINT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Outcome(NamedTuple):
    returncode: int
    stderr: str


def fingerprint(action: str, env: dict[str, str], tmp_path: Path) -> Outcome:
    """deploy/local/fingerprint.py ACTION var/local/deployment.json, as up.sh runs it (in this process)."""
    module = load_fingerprint()
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        code = getattr(module, action)(tmp_path / "local" / "deployment.json", env)
    return Outcome(code, errors.getvalue())


def script(path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    bash = shutil.which("bash")
    if bash is None:
        missing("bash")
    return subprocess.run([bash, str(path)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_the_first_start_records_the_settings_without_a_secret_in_clear(tmp_path):
    assert fingerprint("record", local_env(tmp_path), tmp_path).returncode == 0
    record = tmp_path / "local" / "deployment.json"
    text = record.read_text(encoding="utf-8")
    for secret in ("db-password-1", "bus-password-1", "storage-password-1", LOCAL["SARABUN_JWT_SECRET"]):
        assert secret not in text
    assert LOCAL["SARABUN_SERVICE_SECRET"] not in text and LOCAL["SARABUN_AUDIT_SIGNING_KEY"] not in text
    assert "127.0.0.1:5432/sarabun" in text and str(tmp_path / "data") in text
    assert record.stat().st_mode & 0o077 == 0, "readable by its owner only"
    assert fingerprint("check", local_env(tmp_path), tmp_path).returncode == 0, "the same settings start"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("SARABUN_DATABASE_URL", "postgresql+asyncpg://sarabun:db-password-1@127.0.0.1:5432/other"),
        ("SARABUN_DATABASE_URL", "postgresql+asyncpg://sarabun:db-password-2@127.0.0.1:5432/sarabun"),
        ("SARABUN_BUS_URL", "memory://"),
        ("SARABUN_STORAGE_URL", "s3://access:storage-password-1@127.0.0.1:9000/another"),
        ("SARABUN_DEMO", "1"),
        ("SARABUN_JWT_SECRET", "another-secret-" + "z" * 40),
        ("SARABUN_AUDIT_SIGNING_KEY", base64.b64encode(bytes(range(32))).decode()),
    ],
)
def test_a_start_with_other_settings_is_refused_naming_them(tmp_path, setting, value):
    fingerprint("record", local_env(tmp_path), tmp_path)
    refused = fingerprint("check", local_env(tmp_path, **{setting: value}), tmp_path)
    assert refused.returncode == 3
    assert setting in refused.stderr and "make down-local" in refused.stderr
    assert "password-1" not in refused.stderr and "password-2" not in refused.stderr
    assert "z" * 40 not in refused.stderr


def test_up_local_from_a_shell_without_the_database_url_starts_nothing(tmp_path):
    """The reported case: a second `make up-local` from a shell that lacks SARABUN_DATABASE_URL."""
    fingerprint("record", local_env(tmp_path), tmp_path)
    second = local_env(tmp_path)
    del second["SARABUN_DATABASE_URL"]  # up.sh's default: the local `sarabun` database, not the recorded one
    result = script(UP, second)
    assert result.returncode != 0
    assert "SARABUN_DATABASE_URL" in result.stderr and "make down-local" in result.stderr
    assert "postgresql+asyncpg://postgres@127.0.0.1:5432/sarabun" in result.stderr, "it names what would be used"
    assert list((tmp_path / "local").glob("*.pid")) == [], "no process was started"
    assert not (tmp_path / "data").exists()


def test_down_local_forgets_the_settings_so_a_new_deployment_may_start(tmp_path):
    fingerprint("record", local_env(tmp_path), tmp_path)
    stopped = script(DOWN, local_env(tmp_path))
    assert stopped.returncode == 0, stopped.stderr
    assert not (tmp_path / "local" / "deployment.json").exists()
    assert fingerprint("check", local_env(tmp_path, SARABUN_BUS_URL="memory://"), tmp_path).returncode == 0


# --- deploy/local/processes.py: the deployment the distributed tests, the fault suite and the bench start -----


def test_a_process_that_cannot_start_is_named_with_the_end_of_its_log_and_the_rest_are_stopped(tmp_path):
    from deploy.local.processes import NAMES, LocalDeployment, NotReady

    refused = {"SARABUN_TOKEN_MINUTES": "soon"}  # no process accepts this configuration
    deployment = LocalDeployment("sqlite+aiosqlite:///x.db", "memory://", "file:///x", tmp_path, settings=refused)
    for name in NAMES:
        deployment.start(name)
    started = dict(deployment.processes)
    with pytest.raises(NotReady, match="exited with 2") as not_ready:
        deployment.wait_ready(within=60)
    assert "configuration refused" in str(not_ready.value), "the tail of its log says why"
    deployment.stop(grace=5)
    assert all(process.poll() is not None for process in started.values())
