"""The production topology as processes, and an HTTP client that records every answer.

Each process runs in its own process group, so that stopping it (or killing it) takes its
children too: gunicorn's workers, a Celery worker's pool.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tests.runtime import runtime_bin

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path.name}: no output)"
    text = path.read_text(errors="replace").splitlines()
    return f"--- {path.name} (last {lines} lines)\n" + "\n".join(text[-lines:])


def wait_for(
    condition: Callable[[], bool], *, what: str, timeout: float, every: float = 0.1, logs: Callable[[], str] = str
) -> None:
    """Poll until ``condition`` holds; fail naming ``what`` (and showing the logs) if it never does.

    The deadline only keeps a broken run from hanging: nothing here measures time.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{logs()}")


class Service:
    """One long-running command in its own process group, its output in a log file."""

    def __init__(self, name: str, command: list[str], *, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 (a fixed command line)
                self.command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = 15) -> None:
        """SIGTERM to the group, then SIGKILL to whatever of it is left."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
        # Children can outlive their parent: the group goes whole.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=10)


@dataclass(frozen=True)
class Answer:
    label: str
    method: str
    path: str
    status: int
    body: Any
    deliberate: bool


class Api:
    """A client of the web processes over plain HTTP, as the TLS proxy in front would be one.

    The proxy says ``X-Forwarded-Proto: https``, so the production settings (SSL redirect,
    secure cookies) hold as they are. Every answer is appended to ``answers``; a connection
    that fails is recorded with status 0.
    """

    def __init__(self, port: int, answers: list[Answer], lock: threading.Lock, token: str | None = None) -> None:
        self.port = port
        self.answers = answers
        self.lock = lock
        self.token = token

    def with_token(self, token: str) -> Api:
        return Api(self.port, self.answers, self.lock, token)

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, label: str = "", deliberate: bool = False
    ) -> Answer:
        headers = {"X-Forwarded-Proto": "https", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            status = response.status
            try:
                parsed: Any = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode(errors="replace")[:500]
        except (OSError, http.client.HTTPException) as exc:
            status, parsed = 0, f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
        answer = Answer(label or path, method, path, status, parsed, deliberate)
        with self.lock:
            self.answers.append(answer)
        return answer

    def login(self, username: str, password: str) -> Api:
        answer = self.call("POST", "/api/v1/auth/token/", {"username": username, "password": password}, label="login")
        assert answer.status == 200, answer
        return self.with_token(answer.body["token"])

    def healthy(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", "/health/")
            return connection.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()


def with_server_password(password: str, user: Any) -> None:
    """A password the web processes can check: the suite's own fast hasher is not theirs. Few
    iterations keep the test quick; the server upgrades the hash at the first login."""
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(password, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment of a production process: DEBUG off, a secret, JSON logs, this test's files."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ketaminecare.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_FORMAT": "json",
        "STATIC_ROOT": str(tmp_path / "static"),
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "1",
    }
    env.update(overrides)
    return env


def answers_http(port: int) -> bool:
    """Whether anything answers HTTP on ``port`` (whatever the status)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/health/")
        connection.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


@contextlib.contextmanager
def gunicorn(tmp_path: Path, **overrides: str) -> Iterator[int]:
    """gunicorn from the runtime environment with the production settings; yields its port."""
    port = free_port()
    env = production_env(tmp_path, GUNICORN_BIND=f"127.0.0.1:{port}", **overrides)
    # As a release does before the web processes start: pages need the static files' manifest.
    collected = subprocess.run(  # noqa: S603 (a fixed command line)
        [runtime_bin("python"), "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collected.returncode == 0, collected.stderr
    service = Service(
        "web",
        [runtime_bin("gunicorn"), "-c", "gunicorn.conf.py", "ketaminecare.wsgi"],
        env=env,
        log=tmp_path / "logs" / "web.log",
    )
    service.start()
    try:

        def up() -> bool:
            if not service.running:
                pytest.fail(f"gunicorn exited\n{tail(service.log)}")
            return answers_http(port)

        wait_for(up, what="gunicorn to answer", timeout=60, logs=lambda: tail(service.log))
        yield port
    finally:
        service.stop()


def request(
    port: int, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One plain HTTP request as the TLS proxy would send it: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers={"X-Forwarded-Proto": "https", **(headers or {})})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()
