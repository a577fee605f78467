"""A local deployment remembers the settings its state lives in, and refuses to start a part of itself with
other ones.

Started again from a shell without the same SARABUN_DATABASE_URL, up.sh would otherwise start the missing
processes against the default database: one deployment's letters and audit history split across two. The
first start records the settings below in var/local/deployment.json; every later start compares them and
stops with the differing names. down.sh forgets the record, so a deployment stopped with `make down-local`
may start afresh with other settings.

Secrets (the passwords in the URLs, the signing secrets) are never written in clear: only a salted scrypt
hash of each, enough to tell that one changed.

    python fingerprint.py check FILE    exit 0 when FILE is absent or agrees with the environment, 3 otherwise
    python fingerprint.py record FILE   write FILE from the environment unless it exists
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

URLS = ("SARABUN_DATABASE_URL", "SARABUN_BUS_URL", "SARABUN_STORAGE_URL")
SECRETS = ("SARABUN_JWT_SECRET", "SARABUN_SERVICE_SECRET", "SARABUN_AUDIT_SIGNING_KEY")
TRUE = {"1", "true", "yes", "on", "t", "y"}
REFUSED = 3


def _hash(value: str, salt: str) -> str:
    digest = hashlib.scrypt(value.encode("utf-8"), salt=bytes.fromhex(salt), n=2**12, r=8, p=1, dklen=16)
    return "scrypt:" + digest.hex()


def _url(value: str, salt: str) -> str:
    """The URL with its password replaced by the password's hash."""
    parts = urlsplit(value)
    if parts.password is None:
        return value
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:{_hash(parts.password, salt)}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def current(env: dict[str, str], salt: str) -> dict[str, str]:
    """What defines this deployment's state, from the environment up.sh exports."""
    settings = {name: _url(env.get(name, ""), salt) for name in URLS}
    settings["SARABUN_DATA_DIR"] = str(Path(env.get("SARABUN_DATA_DIR", "var")).resolve())
    settings["SARABUN_DEMO"] = "1" if env.get("SARABUN_DEMO", "").strip().lower() in TRUE else "0"
    for name in SECRETS:
        value = env.get(name)
        settings[name] = _hash(value, salt) if value else "(not set)"
    return settings


def differences(recorded: dict[str, str], now: dict[str, str]) -> list[str]:
    lines = []
    for name in (*URLS, "SARABUN_DATA_DIR", "SARABUN_DEMO", *SECRETS):
        before, after = recorded.get(name), now.get(name)
        if before == after:
            continue
        if name in SECRETS:
            lines.append(f"  {name}: not the value the deployment was started with (secrets are not shown)")
        else:
            lines.append(f"  {name}: started with {_shown(before)}, now {_shown(after)}")
    return lines


def _shown(value: str | None) -> str:
    """A recorded URL as an operator recognises it: any password hash left out."""
    if not value:
        return "(not set)"
    parts = urlsplit(value)
    if parts.password and parts.password.startswith("scrypt:"):
        value = value.replace(":" + parts.password + "@", ":***@", 1)
    return value


def check(path: Path, env: dict[str, str]) -> int:
    if not path.exists():
        return 0
    record = json.loads(path.read_text(encoding="utf-8"))
    lines = differences(record["settings"], current(env, record["salt"]))
    if not lines:
        return 0
    print(
        "this deployment was started on {when} with other settings (recorded in {path}):\n{lines}\n"
        "Starting a part of it with these would split its state (letters, registers, audit history) between two "
        "places. Either run it again with the settings it was started with, or stop it with 'make down-local' "
        "(which forgets them) and start afresh.".format(
            when=record.get("recorded_at", "?"), path=path, lines="\n".join(lines)
        ),
        file=sys.stderr,
    )
    return REFUSED


def record(path: Path, env: dict[str, str]) -> int:
    if path.exists():
        return 0
    salt = secrets.token_hex(16)
    data = {
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "salt": salt,
        "settings": current(env, salt),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(path)
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("check", "record"):
        print(__doc__, file=sys.stderr)
        return 2
    action = check if argv[0] == "check" else record
    return action(Path(argv[1]), dict(os.environ))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
