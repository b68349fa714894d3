"""``finsentry demo [--seconds N] [--rate R]``: embedded Kafka and Redis, a worker with the shift alerts, the
dashboard, generated headlines with a regime change, and a live summary until Ctrl-C or ``DEMO_SECONDS``;
then everything is shut down."""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..embedded import EmbeddedServices, free_port
from ..errors import StreamError
from ..kafka_admin import create_topics
from ..settings import Settings, load_settings
from ..worker_process import DashboardProcess, WorkerProcess
from .headlines import HeadlineGenerator
from .summary import ScoredFollower, recent_alerts, render, sentiment_table

DASHBOARD_PORT = 8080
DEMO_EWMA_HALFLIFE_S = 30  # so that the EWMA column visibly turns within a short demo (production: 1 hour)


def check_model(model_dir: Path) -> Path:
    """The model to serve, or a StreamError that says how to get one."""
    if not (model_dir / "config.json").is_file():
        raise StreamError(f"no model at {model_dir} (expected a directory with config.json). The demo serves the "
                          "default student: build it with 'make default-model', or pass --model-dir DIR with a "
                          "student artifact or a Hugging Face classifier directory.")
    return model_dir


def dashboard_port(wanted: int | None) -> int:
    """``wanted``, else 8080 when it is free, else any free port."""
    if wanted:
        return wanted
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", DASHBOARD_PORT))
            return DASHBOARD_PORT
        except OSError:
            return free_port()


def feed(producer, topic: str, generator: HeadlineGenerator, rate: float, started: float,
         stop: threading.Event) -> None:
    i = 0
    while not stop.is_set():
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            stop.wait(delay)
        message = generator.next(time.monotonic() - started)
        producer.send(topic, key=message["tickers"][0].encode(), value=json.dumps(message).encode())
        i += 1
    producer.flush()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="finsentry demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=float(os.environ.get("DEMO_SECONDS", 0)) or None,
                   help="stop after this many seconds (default: DEMO_SECONDS, else run until Ctrl-C)")
    p.add_argument("--rate", type=float, default=100.0, help="headlines per second (default 100)")
    p.add_argument("--change-at", type=float, help="seconds until the regime change (default: half the run, "
                                                   "or 60)")
    p.add_argument("--model-dir", type=Path, help="model to serve (default: models/default)")
    p.add_argument("--dashboard-port", type=int, help=f"dashboard port (default {DASHBOARD_PORT}, or a free one)")
    p.add_argument("--config", help="TOML settings file (also FINSENTRY_CONFIG); alert rules come from here too")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    settings = load_settings({"model_dir": args.model_dir}, args.config)
    model_dir = check_model(settings.model_dir)
    change_at = args.change_at or (args.seconds / 2 if args.seconds else 60.0)
    with tempfile.TemporaryDirectory(prefix="finsentry-demo-") as tmp, EmbeddedServices() as services:
        status = run(args, settings, model_dir, change_at, services, Path(tmp))
    print("demo: Kafka and Redis stopped.", file=sys.stderr)
    return status


def run(args: argparse.Namespace, settings: Settings, model_dir: Path, change_at: float, services,
        workdir: Path) -> int:
    interactive = sys.stdout.isatty()
    create_topics([settings.input_topic], partitions=4, bootstrap_servers=services.kafka.bootstrap)
    worker = WorkerProcess(workdir / "worker.log", kafka_bootstrap=services.kafka.bootstrap,
                           redis_url=services.redis.url, model_dir=model_dir, device=settings.device,
                           input_topic=settings.input_topic, output_topic=settings.output_topic,
                           broker_session_timeout_s=6, broker_heartbeat_interval_s=1, max_wait_s=0.05,
                           ewma_halflife_s=DEMO_EWMA_HALFLIFE_S, alerts_enabled=True, alerts=settings.alerts,
                           log_level="WARNING")
    dashboard = DashboardProcess(workdir / "dashboard.log", dashboard_port(args.dashboard_port),
                                 workers=[worker.url], redis_url=services.redis.url, alerts=settings.alerts,
                                 log_level="WARNING")
    print(f"demo: Kafka {services.kafka.bootstrap}, Redis {services.redis.url}; starting a worker with model "
          f"{model_dir} and the dashboard...", file=sys.stderr)
    stop = threading.Event()
    follower = feeder = None
    from kafka import KafkaProducer
    import redis

    producer = KafkaProducer(bootstrap_servers=services.kafka.bootstrap, linger_ms=5)
    store = redis.Redis.from_url(services.redis.url, decode_responses=True)
    try:
        worker.start()
        dashboard.start()
        worker.wait_ready(timeout_s=180)
        dashboard.wait_ready(timeout_s=60)
        print(f"demo: dashboard on {dashboard.url}/  (worker metrics on {worker.url}/metrics; follow alerts with "
              f"'finsentry alerts tail --redis-url {services.redis.url}')", file=sys.stderr, flush=True)
        follower = ScoredFollower(services.kafka.bootstrap, settings.output_topic)
        generator = HeadlineGenerator(change_at_s=change_at)
        started = time.monotonic()
        feeder = threading.Thread(target=feed, args=(producer, settings.input_topic, generator, args.rate, started,
                                                     stop), daemon=True)
        feeder.start()
        while args.seconds is None or time.monotonic() - started < args.seconds:
            time.sleep(1.0 if interactive else 5.0)
            elapsed = time.monotonic() - started
            screen = render(elapsed, generator.regime(elapsed), *follower.stats(), follower.total,
                            sentiment_table(store), str(model_dir),
                            alerts=recent_alerts(store, settings.alerts.stream_key))
            print(("\033[2J\033[H" if interactive else "\n") + screen, flush=True)
            for child in (worker, dashboard):
                if child.proc.poll() is not None:
                    print(f"demo: the {child.what} exited ({child.proc.returncode}); log: {child.log_path}",
                          file=sys.stderr)
                    return 1
    except KeyboardInterrupt:
        print("\ndemo: stopping...", file=sys.stderr)
    finally:
        stop.set()
        if feeder is not None:
            feeder.join(10)
        producer.close()
        status = worker.stop(timeout_s=30)
        dashboard.stop(timeout_s=10)
        if follower is not None:
            follower.close()
        store.close()
        print(f"demo: worker stopped (status {status}), dashboard stopped.", file=sys.stderr)
    return 0
