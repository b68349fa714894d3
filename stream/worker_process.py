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


class WorkerProcess:
    def __init__(self, log_path: str | Path, env: Mapping[str, str] | None = None, **settings: Any):
        self.port = settings.pop("metrics_port", None) or free_port()
        self.settings = {"metrics_host": "127.0.0.1", "metrics_port": self.port, **settings}
        self.env = {**os.environ, **(env or {}), **settings_env(**self.settings)}
        self.log_path = Path(log_path)
        self.proc: subprocess.Popen | None = None

    def start(self) -> "WorkerProcess":
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "finsentry_cli", "worker"], env=self.env,
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True,  # Ctrl-C is ours to forward
                                         preexec_fn=die_with_parent)
        return self

    def get(self, path: str, timeout_s: float = 2.0) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout_s) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def wait_ready(self, timeout_s: float = 60.0) -> "WorkerProcess":
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise StreamError(f"worker exited with status {self.proc and self.proc.returncode} before it was "
                                  f"ready; log: {self.log_path}")
            try:
                status, body = self.get("/readyz")
                if status == 200 and json.loads(body).get("ready"):
                    return self
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        raise StreamError(f"worker not ready within {timeout_s}s; log: {self.log_path}")

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
