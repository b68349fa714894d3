"""Pipeline health from the workers' own HTTP endpoints: each worker's Prometheus ``/metrics`` (counters are
turned into rates between two scrapes) and ``/readyz``. Workers need not exist: an unreachable one is down.

A worker URL is either one worker (``http://10.0.0.5:9100``) or, with a ``dns+`` prefix, every address its
host name resolves to, looked up again on each check (``dns+http://worker:9100``: Docker Compose answers a
service name with one address per replica, and so does a Kubernetes headless Service), the way Prometheus'
``dns_sd_configs`` finds the same workers. A ``dns+`` name that resolves to nothing contributes no workers."""
from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from prometheus_client.parser import text_string_to_metric_families

from .models import Health, WorkerStatus


@dataclass(frozen=True)
class Sample:
    at: float
    messages_in: float
    messages_out: float
    dead: float
    latency_sum: float
    latency_count: float
    last_batch: float | None
    model_version: str | None


def parse_metrics(text: str, at: float) -> Sample:
    """The counters the dashboard needs from one ``/metrics`` page (names of ``stream.metrics.Metrics``)."""
    values: dict[str, float] = {}
    version = None
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "finsentry_model_info" and s.value:
                version = s.labels.get("version")
            values[s.name] = values.get(s.name, 0.0) + s.value  # sums label sets (e.g. dead-letter reasons)
    return Sample(at=at, messages_in=values.get("finsentry_messages_in_total", 0.0),
                  messages_out=values.get("finsentry_messages_out_total", 0.0),
                  dead=values.get("finsentry_messages_dead_lettered_total", 0.0),
                  latency_sum=values.get("finsentry_end_to_end_seconds_sum", 0.0),
                  latency_count=values.get("finsentry_end_to_end_seconds_count", 0.0),
                  last_batch=values.get("finsentry_last_batch_timestamp_seconds") or None, model_version=version)


def rates(prev: Sample | None, cur: Sample) -> dict[str, float | None]:
    """Per-second rates between two scrapes; None until there are two (or after a worker restart)."""
    if prev is None or cur.at <= prev.at or cur.messages_in < prev.messages_in:
        return {"messages_per_s": None, "dead_letter_rate": None, "batch_latency_s": None}
    received = cur.messages_in - prev.messages_in
    batches = cur.latency_count - prev.latency_count
    return {"messages_per_s": (cur.messages_out - prev.messages_out) / (cur.at - prev.at),
            "dead_letter_rate": (cur.dead - prev.dead) / received if received > 0 else 0.0,
            "batch_latency_s": (cur.latency_sum - prev.latency_sum) / batches if batches > 0 else None}


DNS_PREFIX = "dns+"


async def expand(url: str) -> list[str]:
    """The worker URLs behind one configured URL (see the module docstring), sorted; [] when a ``dns+`` name
    does not resolve."""
    if not url.startswith(DNS_PREFIX):
        return [url]
    parts = urlsplit(url[len(DNS_PREFIX):])
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError:  # socket.gaierror: no such name (yet), e.g. a compose profile that is not running
        return []
    hosts = sorted({info[4][0] for info in infos}, key=lambda a: (":" in a, ipaddress.ip_address(a)))
    return [parts._replace(netloc=f"[{h}]:{port}" if ":" in h else f"{h}:{port}").geturl() for h in hosts]


class HealthMonitor:
    """Scrapes every configured worker; keeps the previous sample of each to compute rates."""

    def __init__(self, workers: tuple[str, ...], timeout_s: float, redis: Any):
        self.workers, self.redis = workers, redis
        self.client = httpx.AsyncClient(timeout=timeout_s)
        self._prev: dict[str, Sample] = {}
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self.client.aclose()

    async def _worker(self, url: str) -> WorkerStatus:
        try:
            metrics, ready = await asyncio.gather(self.client.get(url + "/metrics"), self.client.get(url + "/readyz"))
            metrics.raise_for_status()
        except (httpx.HTTPError, OSError) as exc:
            self._prev.pop(url, None)
            return WorkerStatus(url=url, up=False, error=f"{type(exc).__name__}: {exc}"[:200])
        now = time.time()
        sample = parse_metrics(metrics.text, now)
        found = rates(self._prev.get(url), sample)
        self._prev[url] = sample
        age = now - sample.last_batch if sample.last_batch else None
        return WorkerStatus(url=url, up=True, ready=ready.status_code == 200, model_version=sample.model_version,
                            last_batch_age_s=age, **found)

    async def check(self) -> Health:
        async with self._lock:  # one scrape at a time keeps the rate intervals meaningful
            found = await asyncio.gather(*(expand(u) for u in self.workers))
            urls = list(dict.fromkeys(u for group in found for u in group))
            for gone in set(self._prev) - set(urls):  # replaced pods: forget their last sample
                del self._prev[gone]
            workers = list(await asyncio.gather(*(self._worker(u) for u in urls)))
        try:
            await self.redis.ping()
            redis_ok, redis_error = True, None
        except Exception as exc:  # report, never raise, from a health check
            redis_ok, redis_error = False, f"{type(exc).__name__}: {exc}"[:200]
        up = [w for w in workers if w.up and w.messages_per_s is not None]
        total = sum(w.messages_per_s or 0.0 for w in up) if up else None
        dlq = [w.dead_letter_rate for w in up if w.dead_letter_rate is not None]
        lat = [w.batch_latency_s for w in up if w.batch_latency_s is not None]
        note = None
        if not self.workers:
            note = ("no workers configured: pass --workers or set FINSENTRY_DASHBOARD_WORKERS to their metrics "
                    "URLs, e.g. http://127.0.0.1:9100 or dns+http://worker:9100")
        elif not workers:
            note = f"no workers found: {', '.join(self.workers)} resolved to no address"
        return Health(redis=redis_ok, redis_error=redis_error, workers=workers, messages_per_s=total,
                      dead_letter_rate=max(dlq) if dlq else None, batch_latency_s=max(lat) if lat else None,
                      note=note)
