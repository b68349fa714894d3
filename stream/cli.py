"""``finsentry worker | replay | demo`` (and the alerts commands, owned by ``stream.alerts``).

Each command builds its one ``Settings`` object here, at the entrypoint, and passes it down.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
from functools import partial
from typing import Any

from .errors import ConfigError, StreamError
from .settings import Settings, load_settings

# Commands implemented by stream.alerts (it exposes main(command, argv) like this module).
DELEGATED = {"silence": "stream.alerts.cli", "alerts": "stream.alerts.cli", "dashboard": "stream.dashboard.cli"}

# flag dest -> Settings field, for the flags shared by the commands that talk to Kafka/Redis.
COMMON_FLAGS = {"bootstrap": "kafka_bootstrap", "redis_url": "redis_url", "group_id": "group_id",
                "input_topic": "input_topic", "output_topic": "output_topic", "dlq_topic": "dlq_topic"}
WORKER_FLAGS = {"model_dir": "model_dir", "device": "device", "max_batch": "max_batch", "max_wait": "max_wait_s",
                "torch_threads": "torch_threads",
                "metrics_port": "metrics_port", "alerts": "alerts_enabled", "log_level": "log_level"}


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML settings file (also FINSENTRY_CONFIG)")
    parser.add_argument("--bootstrap", help="Kafka bootstrap servers (FINSENTRY_KAFKA_BOOTSTRAP)")
    parser.add_argument("--redis-url", help="Redis URL (FINSENTRY_REDIS_URL)")
    parser.add_argument("--group-id", help="Kafka consumer group (FINSENTRY_GROUP_ID)")
    parser.add_argument("--input-topic", help="input topic (default news)")
    parser.add_argument("--output-topic", help="scored output topic (default news.scored)")
    parser.add_argument("--dlq-topic", help="dead-letter topic (default news.dlq)")


def settings_from(args: argparse.Namespace, mapping: dict[str, str]) -> Settings:
    flags: dict[str, Any] = {field: getattr(args, dest, None) for dest, field in mapping.items()}
    return load_settings(flags, args.config)


def worker_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="finsentry worker", description="Score news from Kafka into Redis and Kafka.")
    add_common(p)
    p.add_argument("--model-dir", help="student artifact or teacher directory (default models/default)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"])
    p.add_argument("--max-batch", type=int, help="messages per micro-batch (default 256)")
    p.add_argument("--torch-threads", type=int, help="torch threads for inference (default 1; 0 = one per core)")
    p.add_argument("--max-wait", type=float, help="seconds to wait for a batch to fill (default 0.05)")
    p.add_argument("--metrics-port", type=int, help="port of /metrics, /healthz, /readyz (default 9100)")
    p.add_argument("--alerts", action=argparse.BooleanOptionalAction, default=None,
                   help="run the shift alerts: forward per-ticker scores to the by-ticker topic and detect "
                        "sentiment shifts on them (default on; FINSENTRY_ALERTS_ENABLED)")
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def load_model(settings: Settings):
    """(score_many, version) for ``settings.model_dir``; only ``models`` is imported, never training code."""
    import torch

    from models import Predictor

    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)
    predictor = Predictor.load(settings.model_dir, device=settings.device)
    return partial(predictor.predict, batch_size=settings.infer_batch_size), predictor.version


def run_worker(argv: list[str]) -> int:
    args = worker_parser().parse_args(argv)
    settings = settings_from(args, {**COMMON_FLAGS, **WORKER_FLAGS})
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from models import ModelError

    try:
        score_many, version = load_model(settings)
    except (ModelError, OSError) as exc:
        print(f"finsentry worker: cannot load the model from {settings.model_dir}: {exc}\n"
              "Build one with 'make default-model' or pass --model-dir.", file=sys.stderr)
        return 2
    from .app import Worker

    Worker(settings, score_many, version).run()
    return 0


def main(command: str, argv: list[str]) -> int:
    if command in DELEGATED:
        try:
            module = importlib.import_module(DELEGATED[command])
        except ModuleNotFoundError as exc:
            if exc.name != DELEGATED[command]:
                raise
            print(f"finsentry {command}: not available in this build ({DELEGATED[command]} is missing)",
                  file=sys.stderr)
            return 2
        return int(module.main(command, argv) or 0)
    try:
        if command == "worker":
            return run_worker(argv)
        if command == "replay":
            from .replay import main as replay_main

            return replay_main(argv)
        if command == "demo":
            from .demo.run import main as demo_main

            return demo_main(argv)
    except (ConfigError, StreamError) as exc:
        print(f"finsentry {command}: {exc}", file=sys.stderr)
        return 2
    print(f"finsentry: unknown stream command {command!r}; expected worker, replay, demo or one of "
          f"{sorted(DELEGATED)}", file=sys.stderr)
    return 2
