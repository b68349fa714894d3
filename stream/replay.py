"""``finsentry replay FILE --topic news --rate N | --speedup X``: publish a CSV/JSONL of news to Kafka.

Timestamps are preserved in the messages' ``ts`` field (the Kafka record timestamp stays the publish time, so
broker retention and end-to-end latency keep their meaning). CSV rows that repeat the same ts and headline
(one row per ticker, as in news_stream.csv) become one message with all their tickers.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .errors import InvalidMessage, StreamError
from .validation import parse_ts

TEXT_COLUMNS = ("headline", "text")


@dataclass(frozen=True)
class Message:
    ts_ms: int | None
    payload: dict

    def encode(self) -> bytes:
        return json.dumps(self.payload, ensure_ascii=False).encode()


def _rows(path: Path) -> Iterator[dict]:
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError as exc:
                        raise StreamError(f"{path}:{n}: expected one JSON object per line: {exc}") from None
    else:
        with path.open(encoding="utf-8", newline="") as fh:
            yield from csv.DictReader(fh)


def read_messages(path: str | Path, source: str | None = None) -> Iterator[Message]:
    """Messages in file order; consecutive rows with equal (ts, text) are merged, their tickers combined."""
    path = Path(path)
    source = source or path.stem
    pending: Message | None = None
    for row in _rows(path):
        text = next((row[c] for c in TEXT_COLUMNS if row.get(c)), None)
        if text is None:
            raise StreamError(f"{path}: expected a 'headline' or 'text' column/field, got {sorted(row)}")
        tickers = row.get("tickers") or ([row["ticker"]] if row.get("ticker") else [])
        if isinstance(tickers, str):
            tickers = [t for t in tickers.replace(";", ",").split(",") if t.strip()]
        ts = row.get("ts") or None
        if pending is not None and pending.payload.get("ts") == ts and pending.payload["headline"] == text:
            merged = list(dict.fromkeys(pending.payload.get("tickers", []) + tickers))
            if merged:
                pending.payload["tickers"] = merged
            continue
        if pending is not None:
            yield pending
        # no tickers in the file: leave the field out, so that the worker extracts them from the text
        payload = {"headline": text, **({"tickers": list(tickers)} if tickers else {}),
                   "source": row.get("source") or source}
        if ts is not None:
            payload["ts"] = ts
        if row.get("id"):
            payload["id"] = str(row["id"])
        pending = Message(_ts_or_none(ts), payload)
    if pending is not None:
        yield pending


def _ts_or_none(ts) -> int | None:
    try:
        return None if ts is None else parse_ts(ts)
    except InvalidMessage:
        return None


class Pacer:
    """When to send message ``i``: at a fixed ``rate`` (msg/s), at the file's pace sped up ``speedup`` times,
    or as fast as possible (neither). Returns seconds since the start."""

    def __init__(self, rate: float | None = None, speedup: float | None = None):
        if rate is not None and speedup is not None:
            raise StreamError("use --rate or --speedup, not both")
        if (rate is not None and rate <= 0) or (speedup is not None and speedup <= 0):
            raise StreamError(f"--rate and --speedup must be positive; got rate={rate}, speedup={speedup}")
        self.rate, self.speedup = rate, speedup
        self._first_ts: int | None = None
        self._last_offset = 0.0

    def offset(self, i: int, ts_ms: int | None) -> float:
        if self.rate:
            return i / self.rate
        if self.speedup and ts_ms is not None:
            if self._first_ts is None:
                self._first_ts = ts_ms
            # never go back in time: out-of-order rows are sent right away
            self._last_offset = max(self._last_offset, (ts_ms - self._first_ts) / 1000 / self.speedup)
            return self._last_offset
        return self._last_offset if self.speedup else 0.0


def publish(producer, topic: str, messages: Iterable[Message], pacer: Pacer, limit: int | None = None,
            progress_every_s: float = 5.0, out=sys.stderr) -> int:
    start = last_report = time.monotonic()
    sent = 0
    for i, message in enumerate(messages):
        if limit is not None and i >= limit:
            break
        delay = start + pacer.offset(i, message.ts_ms) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        producer.send(topic, message.encode())
        sent += 1
        now = time.monotonic()
        if now - last_report >= progress_every_s:
            print(f"replay: {sent} messages, {sent / (now - start):.0f} msg/s", file=out)
            last_report = now
    producer.flush()
    elapsed = time.monotonic() - start
    print(f"replay: sent {sent} messages to {topic} in {elapsed:.1f}s ({sent / max(elapsed, 1e-9):.0f} msg/s)",
          file=out)
    return sent


def main(argv: list[str]) -> int:
    from .cli import add_common, settings_from
    from .clients import kafka_python_options

    p = argparse.ArgumentParser(prog="finsentry replay", description=__doc__.split("\n\n")[0])
    p.add_argument("file", type=Path, help="CSV (ts,ticker,headline,...) or JSONL of news")
    add_common(p)
    p.add_argument("--topic", help="topic to publish to (default: the input topic, news)")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument("--rate", type=float, help="messages per second")
    pace.add_argument("--speedup", type=float, help="replay the file's own timing this many times faster")
    p.add_argument("--limit", type=int, help="stop after this many messages")
    p.add_argument("--source", help="source field for rows without one (default: the file name)")
    args = p.parse_args(argv)
    settings = settings_from(args, {"bootstrap": "kafka_bootstrap"})
    if not args.file.is_file():
        raise StreamError(f"{args.file} does not exist")
    from kafka import KafkaProducer

    producer = KafkaProducer(**kafka_python_options(settings), linger_ms=5, acks="all")
    try:
        publish(producer, args.topic or settings.input_topic, read_messages(args.file, args.source),
                Pacer(args.rate, args.speedup), args.limit)
    except KeyboardInterrupt:
        producer.flush()
    finally:
        producer.close()
    return 0
