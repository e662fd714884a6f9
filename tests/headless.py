"""Headless Chromium (Debian's package, driven by Playwright) for the tests that look at pages.

Only addresses on this machine are reachable from the page: requests elsewhere (web fonts,
analytics) are aborted at once, so that a page renders the same offline as online.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHROMIUM = os.environ.get("MTLSEARCH_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass


@contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Serve a folder over HTTP on 127.0.0.1 (a free port) from a thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def chromium_page(base_url: str, profile: Path, width: int = 1400, height: int = 900):
    """A page of a fresh headless Chromium whose profile lives in ``profile``."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"Chromium is missing at {CHROMIUM}: apt-get install chromium")
    profile.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        # Playwright takes the profile folder as an argument (it refuses --user-data-dir in args)
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": width, "height": height},
        )
        try:
            context.route(lambda url: not url.startswith(base_url), lambda route: route.abort())
            yield context.new_page()
        finally:
            context.close()


def keep_screenshot(path: Path) -> None:
    """``MTLSEARCH_SCREENSHOTS=docs/images python -m pytest ...`` refreshes the README's images."""
    import shutil

    folder = os.environ.get("MTLSEARCH_SCREENSHOTS")
    if folder:
        shutil.copy(path, Path(folder) / path.name)


@contextmanager
def served(command: list[str], health_url: str, log_path: Path, timeout_s: float = 180) -> Iterator[None]:
    """Run a server ``command`` (its own process group, output in ``log_path``) until the block
    ends, once ``health_url`` answers 200."""
    import signal
    import subprocess
    import time
    import urllib.error
    import urllib.request

    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(health_url, timeout=5) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert process.poll() is None, f"{command[0]} exited:\n{log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"{command[0]} did not answer:\n{log_path.read_text()[-3000:]}"
            time.sleep(0.5)
        yield
    finally:
        # a server may run workers of its own: end its whole process group
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
