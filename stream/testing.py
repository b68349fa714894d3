"""Helpers for tests and benchmarks of stream code against real services (see tests/stream/conftest.py)."""
from __future__ import annotations

import json
import time
from typing import Any, Callable, TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout_s: float, what: str, interval_s: float = 0.2) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def consume(bootstrap: str, topic: str, expected: int, timeout_s: float = 30.0,
            size: Callable[[Any], int] = lambda record: 1) -> list:
    """All records of ``topic`` from the start, once at least ``expected`` have arrived (or on timeout);
    ``size`` says how many each record counts for (e.g. the scores inside a batched by-ticker record)."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=1000, group_id=None)
    records, count, deadline = [], 0, time.monotonic() + timeout_s
    try:
        while count < expected and time.monotonic() < deadline:
            for record in consumer:
                records.append(record)
                count += size(record)
        return records
    finally:
        consumer.close()


def news(i: int, **extra) -> bytes:
    """A valid input message with id ``n000042``, one ticker (AAPL, MSFT, TSLA in turn), 1 s apart."""
    ticker = ["AAPL", "MSFT", "TSLA"][i % 3]
    body = {"id": f"n{i:06d}", "ts": 1_700_000_000_000 + i * 1000, "headline": f"${ticker} headline number {i}",
            **extra}
    return json.dumps(body).encode()


# Words the keyword model treats as positive or negative (single word pieces of the MiniLM vocabulary; words
# that are not one piece are skipped).
POSITIVE_WORDS = ("beats", "beat", "jump", "jumps", "raises", "rallies", "rally", "upgrade", "upgrades", "strong",
                  "record", "profit", "wins", "climbs", "surge", "surges", "soars", "gains", "buyback")
NEGATIVE_WORDS = ("misses", "miss", "slide", "slides", "falls", "cuts", "probe", "drops", "weak", "downgrade",
                  "downgrades", "shrink", "recalls", "recall", "concerns", "loss", "losses", "lawsuit", "plunge",
                  "slump", "fraud", "tumbles")


def make_keyword_artifact(out, positive=POSITIVE_WORDS, negative=NEGATIVE_WORDS):
    """A real student artifact (a CNN over word pieces) whose weights are set by hand so that it scores by
    keywords: a text with a positive word scores about +0.92, one with a negative word about -0.92, one with
    neither (or both) about 0. Loading and serving take every production code path, and the scores are
    meaningful enough for tests of what comes after the model (aggregates, shift alerts) to plant a sentiment
    regime change in text. Written in milliseconds; not a sentiment model."""
    from pathlib import Path

    import torch
    from tokenizers import Tokenizer

    from models.artifact import save_student
    from models.pretrained import minilm_path
    from models.student import CNNConfig, CNNStudent

    tokenizer_file = minilm_path() / "tokenizer.json"
    vocab = Tokenizer.from_file(str(tokenizer_file))
    model = CNNStudent(CNNConfig(embed_dim=2, channels=2, kernel_sizes=(1,), dropout=0.0))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        for column, words in ((0, positive), (1, negative)):
            for word in words:
                piece = vocab.token_to_id(word)
                if piece is not None:
                    model.embed.weight[piece, column] = 1.0
        conv = model.convs[0]
        conv.weight[0, 0, 0] = conv.weight[1, 1, 0] = 1.0  # features: (any positive word, any negative word)
        model.head.weight[2, 0] = model.head.weight[0, 1] = 5.0  # LABELS order: negative, neutral, positive
        model.head.bias[1] = 2.5
    out = Path(out)
    save_student(out, model.eval(), "cnn", tokenizer_file, 64, extra={"note": "hand-set keyword model for tests"})
    return out
