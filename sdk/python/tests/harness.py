"""Starts a real ``klaxon server`` for the tests: on SQLite, or on PostgreSQL when
``KLAXON_TEST_POSTGRES_URL`` is set (a fresh database per server, made with ``psql``).

The binary is ``$KLAXON_BIN``, or built once from the repository with ``go build``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable

SDK = Path(__file__).resolve().parent.parent
REPO = SDK.parent.parent
POSTGRES_ENV = "KLAXON_TEST_POSTGRES_URL"

if str(SDK) not in sys.path:
    sys.path.insert(0, str(SDK))

_binary_lock = threading.Lock()
_binary: str | None = None


def klaxon_binary() -> str:
    """``$KLAXON_BIN``, or the repository's ``cmd/klaxon`` built once into a temporary directory."""
    global _binary
    with _binary_lock:
        if _binary is not None:
            return _binary
        given = os.environ.get("KLAXON_BIN")
        if given:
            _binary = given
            return given
        env = dict(os.environ)
        env["PATH"] = env.get("PATH", "") + os.pathsep + "/usr/local/go/bin"
        go = shutil.which("go", path=env["PATH"])
        if go is None:
            raise unittest.SkipTest("no klaxon binary: set KLAXON_BIN or install Go to build cmd/klaxon")
        built = tempfile.mkdtemp(prefix="klaxon-py-bin-")
        atexit.register(shutil.rmtree, built, True)
        out = Path(built) / "klaxon"
        subprocess.run([go, "build", "-o", str(out), "./cmd/klaxon"], cwd=REPO, env=env, check=True)
        _binary = str(out)
        return _binary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_database() -> tuple[str, Callable[[], None]] | None:
    """A URL of a fresh PostgreSQL database and how to drop it, or ``None`` when ``KLAXON_TEST_POSTGRES_URL`` is unset.

    Raises SkipTest (a visible skip) when the URL is set but ``psql`` cannot create a database.
    """
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        return None
    psql = shutil.which("psql")
    if psql is None:
        raise unittest.SkipTest(f"{POSTGRES_ENV} is set but psql is not installed: cannot make a fresh database")
    name = "klaxon_py_" + uuid.uuid4().hex[:12]
    made = subprocess.run([psql, url, "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {name}"], capture_output=True, text=True)
    if made.returncode != 0:
        raise unittest.SkipTest(f"psql could not create a database on {POSTGRES_ENV}: {made.stderr.strip()}")
    parts = urllib.parse.urlsplit(url)

    def drop() -> None:
        subprocess.run([psql, url, "-c", f"DROP DATABASE IF EXISTS {name}"], capture_output=True)

    return urllib.parse.urlunsplit(parts._replace(path="/" + name)), drop


class Server:
    """A ``klaxon server`` process on a free loopback port (no tokens: every request allowed)."""

    def __init__(self, db: str | None = None, drop: Callable[[], None] | None = None, tokens: list[str] | None = None) -> None:
        self._drop = drop
        self.dir = tempfile.mkdtemp(prefix="klaxon-py-")
        self.db = db or os.path.join(self.dir, "klaxon.db")
        extra: list[str] = []
        if tokens:
            path = os.path.join(self.dir, "tokens")
            with open(path, "w") as f:
                f.write("\n".join(tokens) + "\n")
            extra = ["--tokens", path]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(self.dir, "server.log")
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [klaxon_binary(), "server", "--db", self.db, "--addr", f"127.0.0.1:{self.port}", *extra],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"klaxon server exited with {self.process.returncode}: {self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"klaxon server did not become healthy: {self.log()}")

    def has_worker_protocol(self) -> bool:
        request = urllib.request.Request(self.url + "/api/v1/worker/register", data=b"{}", method="POST")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=5):
                return True
        except urllib.error.HTTPError as err:
            return err.code not in (404, 405)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read()[-4000:].decode("utf-8", "replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self._drop is not None:
            self._drop()


def eventually(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """The first truthy value of ``check()``; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout:g}s")
        time.sleep(interval)
