"""Real-browser fixtures: the whole system started as `sarabun run` (embedded, demo mode) in a temporary
folder on a free port, and Debian's Chromium driven by Playwright. Without Chromium the tests skip with the
reason, or fail under SARABUN_REQUIRE_INFRA=1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from conftest import missing

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "sarabun-demo"
# The README's screenshots (docs/screenshots) are refreshed only on purpose, by `make screenshots`, which sets
# SARABUN_SCREENSHOTS to that folder; a test run writes them to a temporary folder and leaves the tree clean.
SCREENSHOTS = Path(os.environ.get("SARABUN_SCREENSHOTS") or Path(tempfile.gettempdir()) / "sarabun-screenshots")
VIEWPORT = {"width": 1366, "height": 900}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Per module: each module's letters are numbered and received from 1, whatever the other modules sent.
@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """The base URL of a fresh embedded deployment, stopped after the module."""
    with running(tmp_path_factory.mktemp("sarabun-web")) as base:
        yield base


def demo_env(data: Path, port: int | None = None) -> dict[str, str]:
    env = {**os.environ, "SARABUN_DEMO": "1", "SARABUN_DATA_DIR": str(data), "SARABUN_HOST": "127.0.0.1"}
    return env | ({"SARABUN_PORT": str(port)} if port else {})


def sarabun(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("sarabun")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "services.launcher", *args]


@contextmanager
def running(data: Path, **settings: str) -> Iterator[str]:
    """`sarabun run` in demo mode over the data folder (which may already hold databases), with any further
    settings (`SARABUN_...` variables), until the end."""
    port = _free_port()
    log = (data / "server.log").open("wb")
    env = demo_env(data, port) | settings
    process = subprocess.Popen(sarabun("run"), env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, data / "server.log")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_ready(base: str, process: subprocess.Popen, log: Path, within: float = 90.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"sarabun run exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"sarabun run did not become ready within {within}s:\n{log.read_text()[-3000:]}")


# Per module, not per session: sync Playwright keeps an event loop running in this thread while it is open,
# and the asyncio tests collected after these need the thread free.
@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        missing(f"Chromium ({CHROMIUM})")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def open_as(browser, server):
    """open_as("cgd.clerk") -> a page signed in as that user, in a browser context of its own (optionally
    with scripts off, as a browser that does not run them)."""
    contexts = []

    def sign_in(username: str, script: bool = True):
        context = browser.new_context(
            base_url=server, viewport=VIEWPORT, locale="th-TH", accept_downloads=True, java_script_enabled=script
        )
        contexts.append(context)
        page = context.new_page()
        page.goto("/signin")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    yield sign_in
    for context in contexts:
        context.close()


@pytest.fixture
def api(server):
    """The public API, for arranging what a test needs and checking what the browser did."""
    with httpx.Client(base_url=f"{server}/api/v1", timeout=30) as client:
        yield client


def token(api: httpx.Client, username: str) -> dict:
    response = api.post("/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def shoot(page, name: str, full_page: bool = True) -> None:
    """A screenshot of the whole page (or of what the window shows: a PDF in a frame is painted only there),
    <name>.png in SCREENSHOTS (docs/screenshots for the README with `make screenshots`)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def pick(picker, fragment: str, key: str) -> None:
    """Chooses a unit in a recipient picker by typing part of its name or code and clicking the suggestion."""
    picker.get_by_role("combobox").fill(fragment)
    picker.locator(f"[role=option][data-key='{key}']").click()
    expect(picker.locator(f".chip[data-key='{key}']")).to_be_visible()
