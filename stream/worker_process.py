"""A ``finsentry worker`` child process, for the demo, benchmarks and integration tests."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Mapping

from .embedded import die_with_parent, free_port
from .errors import StreamError


def _reveal(value: Any) -> Any:
    """JSON for what ``json`` cannot encode: a secret's value (the child needs it), else its string form."""
    return value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)


def settings_env(**fields: Any) -> dict[str, str]:
    """``settings_env(max_batch=64)`` -> ``{"FINSENTRY_MAX_BATCH": "64"}`` (None values dropped)."""
    out = {}
    for name, value in fields.items():
        if value is None:
            continue
        if hasattr(value, "model_dump"):  # a nested settings model, e.g. alerts=AlertConfig(...)
            value = json.dumps(value.model_dump(), default=_reveal)
        elif isinstance(value, dict):
            value = json.dumps(value, default=_reveal)
        elif isinstance(value, (list, tuple)):
            value = ",".join(map(str, value))
        elif isinstance(value, bool):
            value = "true" if value else "false"
        out[f"FINSENTRY_{name.upper()}"] = str(value)
    return out


class ServiceProcess:
    """A ``finsentry COMMAND`` child serving HTTP on a loopback port; stops with its parent (see embedded)."""

    command = ""
    what = "service"

    def __init__(self, log_path: str | Path, port: int | None, env: Mapping[str, str] | None = None,
                 args: list[str] | None = None, **settings: Any):
        self.port = port or free_port()
        self.settings = settings
        self.env = {**os.environ, **(env or {}), **settings_env(**settings)}
        self.args = list(args or [])
        self.log_path = Path(log_path)
        self.proc: subprocess.Popen | None = None

    def start(self):
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "finsentry_cli", self.command, *self.args],
                                         env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL,
                                         start_new_session=True,  # Ctrl-C is ours to forward
                                         preexec_fn=die_with_parent)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, timeout_s: float = 2.0) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout_s) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def is_ready(self) -> bool:
        return self.get("/healthz")[0] == 200

    def wait_ready(self, timeout_s: float = 60.0):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise StreamError(f"{self.what} exited with status {self.proc and self.proc.returncode} before it "
                                  f"was ready; log: {self.log_path}")
            try:
                if self.is_ready():
                    return self
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        raise StreamError(f"{self.what} not ready within {timeout_s}s; log: {self.log_path}")

    def metric(self, name: str) -> float:
        """Sum of all samples of one metric family (e.g. ``finsentry_messages_out_total``)."""
        _, body = self.get("/metrics")
        total = 0.0
        for line in body.decode().splitlines():
            if line.startswith(name) and line[len(name):len(name) + 1] in (" ", "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM and wait (SIGKILL after ``timeout_s``); the exit status."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def rss_bytes(self) -> int:
        """Resident memory of the worker process (Linux)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(kb) * 1024


class WorkerProcess(ServiceProcess):
    """``finsentry worker`` configured by ``FINSENTRY_*`` variables built from ``settings``; ready when its
    /readyz says so (partitions assigned, Redis reachable)."""

    command = "worker"
    what = "worker"

    def __init__(self, log_path: str | Path, env: Mapping[str, str] | None = None, **settings: Any):
        port = settings.pop("metrics_port", None) or free_port()
        super().__init__(log_path, port, env, metrics_host="127.0.0.1", metrics_port=port, **settings)

    def is_ready(self) -> bool:
        status, body = self.get("/readyz")
        return status == 200 and bool(json.loads(body).get("ready"))


class DashboardProcess(ServiceProcess):
    """``finsentry dashboard`` on loopback, scraping the given workers' metrics."""

    command = "dashboard"
    what = "dashboard"

    def __init__(self, log_path: str | Path, port: int | None = None, workers: list[str] = (),
                 env: Mapping[str, str] | None = None, **settings: Any):
        super().__init__(log_path, port, env, **settings)
        self.args = ["--host", "127.0.0.1", "--port", str(self.port)] + (
            ["--workers", ",".join(workers)] if workers else [])
