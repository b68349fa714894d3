"""``finsentry demo [--seconds N] [--rate R]``: embedded Kafka and Redis, a worker, generated headlines with a
regime change, and a live summary until Ctrl-C or ``DEMO_SECONDS``; then everything is shut down."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..embedded import EmbeddedServices
from ..kafka_admin import create_topics
from ..settings import load_settings
from ..worker_process import WorkerProcess
from .headlines import HeadlineGenerator
from .summary import ScoredFollower, render, sentiment_table


def resolve_model(model_dir: Path, workdir: Path) -> tuple[Path, str]:
    if model_dir.is_dir():
        return model_dir, str(model_dir)
    from models.testing import make_tiny_artifact

    print(f"demo: no model at {model_dir} (build one with 'make default-model'); using a tiny UNTRAINED model, "
          "so the sentiment shown is arbitrary", file=sys.stderr)
    return make_tiny_artifact(workdir / "tiny-model"), "tiny untrained model"


def feed(producer, topic: str, generator: HeadlineGenerator, rate: float, started: float,
         stop: threading.Event) -> None:
    import json

    i = 0
    while not stop.is_set():
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            stop.wait(delay)
        producer.send(topic, json.dumps(generator.next(time.monotonic() - started)).encode())
        i += 1
    producer.flush()


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="finsentry demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=float(os.environ.get("DEMO_SECONDS", 0)) or None,
                   help="stop after this many seconds (default: DEMO_SECONDS, else run until Ctrl-C)")
    p.add_argument("--rate", type=float, default=100.0, help="headlines per second (default 100)")
    p.add_argument("--change-at", type=float, help="seconds until the regime change (default: half the run, "
                                                   "or 60)")
    p.add_argument("--model-dir", type=Path, help="model to serve (default: models/default)")
    p.add_argument("--config", help="TOML settings file (also FINSENTRY_CONFIG)")
    args = p.parse_args(argv)
    settings = load_settings({"model_dir": args.model_dir}, args.config)
    change_at = args.change_at or (args.seconds / 2 if args.seconds else 60.0)
    interactive = sys.stdout.isatty()

    with tempfile.TemporaryDirectory(prefix="finsentry-demo-") as tmp, EmbeddedServices() as services:
        model_dir, model_name = resolve_model(settings.model_dir, Path(tmp))
        create_topics(["news"], partitions=4, bootstrap_servers=services.kafka.bootstrap)
        log_path = Path(tmp) / "worker.log"
        worker = WorkerProcess(log_path, kafka_bootstrap=services.kafka.bootstrap, redis_url=services.redis.url,
                               model_dir=model_dir, device=settings.device, broker_session_timeout_s=6,
                               broker_heartbeat_interval_s=1, max_wait_s=0.05, alerts_enabled=True,
                               log_level="WARNING")
        print(f"demo: Kafka {services.kafka.bootstrap}, Redis {services.redis.url}; starting a worker "
              f"(metrics on http://127.0.0.1:{worker.port}/metrics)...", file=sys.stderr)
        stop = threading.Event()
        follower = feeder = None
        from kafka import KafkaProducer
        import redis

        producer = KafkaProducer(bootstrap_servers=services.kafka.bootstrap, linger_ms=5)
        store = redis.Redis.from_url(services.redis.url, decode_responses=True)
        try:
            worker.start().wait_ready(timeout_s=180)
            follower = ScoredFollower(services.kafka.bootstrap, settings.output_topic)
            generator = HeadlineGenerator(change_at_s=change_at)
            started = time.monotonic()
            feeder = threading.Thread(target=feed, args=(producer, "news", generator, args.rate, started, stop),
                                      daemon=True)
            feeder.start()
            while args.seconds is None or time.monotonic() - started < args.seconds:
                time.sleep(1.0 if interactive else 5.0)
                elapsed = time.monotonic() - started
                screen = render(elapsed, generator.regime(elapsed), *follower.stats(), follower.total,
                                sentiment_table(store), model_name)
                print(("\033[2J\033[H" if interactive else "\n") + screen, flush=True)
                if worker.proc.poll() is not None:
                    print(f"demo: the worker exited ({worker.proc.returncode}); log: {log_path}", file=sys.stderr)
                    return 1
        except KeyboardInterrupt:
            print("\ndemo: stopping...", file=sys.stderr)
        finally:
            stop.set()
            if feeder is not None:
                feeder.join(10)
            producer.close()
            status = worker.stop(timeout_s=30)
            if follower is not None:
                follower.close()
            store.close()
            print(f"demo: worker stopped (status {status}); services stopped.", file=sys.stderr)
    return 0
