"""A real Celery worker as a subprocess (``celery -A ketaminecare worker``), for tests and bench.

It runs from the runtime environment (requirements.txt alone: tests/runtime.py).

It runs in its own process group so that it can be killed whole (the main process and its pool
children) with SIGKILL, as a crashed machine would be.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from django.db import connection

from tests.runtime import runtime_bin

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database this process uses now (the test database inside pytest)."""
    cfg = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("a worker shares the database only on PostgreSQL: set DATABASE_URL=postgres://...")
    auth = cfg["USER"] + (f":{cfg['PASSWORD']}" if cfg["PASSWORD"] else "")
    return f"postgres://{auth}@{cfg['HOST'] or '127.0.0.1'}:{cfg['PORT'] or 5432}/{cfg['NAME']}"


class WorkerProcess:
    def __init__(
        self,
        *,
        env: dict[str, str],
        log: Path,
        concurrency: int | None = None,
        name: str = "test",
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.env = env
        self.extra_args = extra_args
        self.log = log
        self.concurrency = concurrency
        self.name = name
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        command = [
            runtime_bin("celery"),
            "-A",
            "ketaminecare",
            "worker",
            "-l",
            "info",
            "-n",
            f"{self.name}-{os.getpid()}@%h",
        ]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        if self.concurrency:
            command += ["--concurrency", str(self.concurrency)]
        command += list(self.extra_args)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 (a fixed command line)
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited with {self.process.returncode}:\n{self.output(offset)}")
            if " ready." in self.output(offset):
                return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the worker did not start in {timeout} s:\n{self.output(offset)}")

    def output(self, offset: int = 0) -> str:
        with open(self.log, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")

    def peak_rss_kib(self) -> dict[int, int]:
        """The peak resident memory (VmHWM) of each live process of the worker, in KiB."""
        peaks = {}
        for pid in self.pids:
            status = Path(f"/proc/{pid}/status")
            if status.exists():
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[pid] = int(line.split()[1])
        return peaks

    @property
    def pids(self) -> list[int]:
        """The main process and its pool children."""
        if self.process is None:
            return []
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        return pids

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the whole group and wait for the main process."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            return
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """A warm shutdown, then SIGKILL for whatever remains of the group."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            # A worker that does not finish its warm shutdown in time is killed just below.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        # Pool children outlive a main process killed alone; the group goes whole.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=10)
