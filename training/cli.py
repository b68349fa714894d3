"""``finsentry train-teacher | distill | evaluate | quantize``: flags in, one frozen argument object, work out."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from models.errors import ModelError

from .errors import TrainingError


def _data_flags(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--data", nargs="+", required=required, metavar="FILE", help="labelled CSV/JSONL/Parquet files")
    p.add_argument("--text-col", default="text")
    p.add_argument("--label-col", default="label")
    p.add_argument("--label-map", default=None, help="raw labels to names, e.g. 0=negative,1=neutral,2=positive")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--test-fraction", type=float, default=0.15, help="held out for evaluation, never trained on")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--device", default="cpu", help="cpu | cuda | auto")


def load_split(a, out: Path):
    """Read, normalise and split the labelled data the same way for teacher and student; write the held-out parts."""
    from .data import load_labelled, parse_label_map, split

    data, report = load_labelled(a.data, a.text_col, a.label_col, parse_label_map(a.label_map))
    print(f"data: {report}; {len(data)} usable", file=sys.stderr)
    train, val, test = split(data, [a.val_fraction, a.test_fraction], a.seed)
    split_dir = out / "split"
    split_dir.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train), ("val", val), ("test", test)):
        part.to_csv(split_dir / f"{name}.csv", index=False)
    for source, part in test.groupby("source"):
        part.to_csv(split_dir / f"test_{source}.csv", index=False)
    print(f"split: train {len(train)}, val {len(val)}, test {len(test)} (written to {split_dir})", file=sys.stderr)
    return train, val, test


def _device(name: str) -> str:
    from models.predictor import resolve_device

    return str(resolve_device(name))


def train_teacher(argv: list[str]) -> int:
    from models.pretrained import minilm_path

    from .teacher import TeacherArgs, fine_tune

    p = argparse.ArgumentParser(prog="finsentry train-teacher", description="Fine-tune a teacher classifier.")
    _data_flags(p)
    p.add_argument("--base", default=None, help="HF model name or directory (default: the packaged MiniLM-L6)")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--epochs", type=float, default=TeacherArgs.epochs)
    p.add_argument("--lr", type=float, default=TeacherArgs.lr)
    p.add_argument("--batch-size", type=int, default=TeacherArgs.batch_size)
    p.add_argument("--max-length", type=int, default=TeacherArgs.max_length)
    p.add_argument("--class-balance", type=float, default=TeacherArgs.class_balance)
    a = p.parse_args(argv)
    args = TeacherArgs(base=a.base or str(minilm_path()), epochs=a.epochs, lr=a.lr, batch_size=a.batch_size,
                       max_length=a.max_length, class_balance=a.class_balance, seed=a.seed, device=_device(a.device))
    train, val, _ = load_split(a, a.out)
    summary = fine_tune(args, train, val, a.out)
    print(json.dumps(summary["best"]), file=sys.stderr)
    return 0


def main(command: str, argv: list[str]) -> int:
    handlers = {"train-teacher": train_teacher}
    for name in ("distill", "evaluate", "quantize"):
        try:
            from importlib import import_module

            handlers[name] = getattr(import_module(f"training.cli_{name}"), "run")
        except ImportError:
            pass
    try:
        return handlers[command](argv)
    except (TrainingError, ModelError) as exc:
        print(f"finsentry {command}: error: {exc}", file=sys.stderr)
        return 2
