"""Does distillation earn its place? Student variants side by side with their teacher, on the held-out split.

Trains each variant (same split, same seed, teacher outputs cached and shared), then evaluates all of them
and the teacher in one process: quality per held-out dataset (FPB, its all-agree part, each tweet set) and
speed measured in interleaved rounds, so the throughput ratios compare like with like.

    python -m benchmarks.distillation --teacher runs/teacher --out runs/bench [--epochs 4] [--only prob hard_only]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from models import Predictor
from training.data import load_unlabelled
from training.distill import DistillArgs, distil
from training.evaluate import datasets_from_files, evaluate

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

# name: (student, alpha, beta, gamma, feature loss, use transfer set)
VARIANTS = {
    "hard_only":             ("bilstm", 1.0, 0.0, 0.0, "mse", False),
    "prob":                  ("bilstm", 0.5, 0.5, 0.0, "mse", True),
    "prob_no_transfer":      ("bilstm", 0.5, 0.5, 0.0, "mse", False),
    "pure_kd":               ("bilstm", 0.0, 1.0, 0.0, "mse", True),
    "feature":               ("bilstm", 1.0, 0.0, 0.5, "mse", True),
    "prob_feature":          ("bilstm", 0.5, 0.5, 0.5, "mse", True),
    "prob_feature_cos":      ("bilstm", 0.5, 0.5, 0.5, "cosine_target", True),
    "cnn_prob":              ("cnn", 0.5, 0.5, 0.0, "mse", True),
    "transformer_prob":      ("transformer", 0.5, 0.5, 0.0, "mse", True),
}
# A transformer step costs ~5x a BiLSTM step on CPU: it gets fewer epochs (at most this many) over the same data.
TRANSFORMER_EPOCHS = 1.0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--teacher", type=Path, default=Path("runs/teacher"))
    p.add_argument("--out", type=Path, default=Path("runs/bench"))
    p.add_argument("--unlabeled", type=Path, default=SHARED / "news_stream.csv")
    p.add_argument("--epochs", type=float, default=3.0)
    p.add_argument("--transfer-limit", type=int, default=DistillArgs.transfer_limit)
    p.add_argument("--cache-dir", type=Path, default=Path("runs/cache"), help="teacher outputs shared between runs")
    p.add_argument("--only", nargs="*", default=None, choices=sorted(VARIANTS))
    p.add_argument("--include", nargs="*", default=["models/default"], help="extra artifacts to evaluate alongside")
    p.add_argument("--skip-training", action="store_true", help="evaluate what is already under --out")
    a = p.parse_args(argv)
    split = a.teacher / "split"
    if not split.is_dir():
        sys.exit(f"expected the teacher's held-out split in {split}; train the teacher with finsentry train-teacher")
    train, val, test = (pd.read_csv(split / f"{n}.csv") for n in ("train", "val", "test"))
    names = a.only or list(VARIANTS)
    transfer = []
    if not a.skip_training and any(VARIANTS[n][5] for n in names):
        transfer = load_unlabelled(a.unlabeled, "headline", a.transfer_limit,
                                   exclude=list(train["text"]) + list(val["text"]) + list(test["text"]))
    summaries = {}
    for name in names:
        student, alpha, beta, gamma, kind, use_transfer = VARIANTS[name]
        out = a.out / name
        if not a.skip_training:
            epochs = min(a.epochs, TRANSFORMER_EPOCHS) if student == "transformer" else a.epochs
            args = DistillArgs(teacher=str(a.teacher), student=student, alpha=alpha, beta=beta, gamma=gamma,
                               feature_loss=kind, epochs=epochs, transfer_limit=len(transfer) if use_transfer else 0)
            summaries[name] = distil(args, train, val, transfer if use_transfer else [], out, a.cache_dir)
        elif (out / "distill_summary.json").is_file():
            summaries[name] = json.loads((out / "distill_summary.json").read_text())
    models = {name: Predictor.load(a.out / name, device="cpu") for name in summaries}
    for extra in a.include:
        if Path(extra, "config.json").is_file():
            models[Path(extra).name] = Predictor.load(extra, device="cpu")
            models[Path(extra).name + "_int8"] = Predictor.load(extra, device="cpu", quantize="int8")
    datasets = {k.removeprefix("test_"): v for k, v in
                datasets_from_files(sorted(split.glob("test_*.csv"))).items()}
    teacher = Predictor.load(a.teacher, device="cpu")
    first, *rest = models
    result = evaluate(models[first], datasets, teacher, extra_models={k: models[k] for k in rest})
    result["variants"] = {n: {"args": s["args"], "best_val": s["best"], "train_seconds": s["train_seconds"],
                              "transfer_rows": s["transfer_rows"]} for n, s in summaries.items()}
    result["model_names"] = {"model": first}
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    print(table(result, first, rest))
    return 0


def table(result: dict, first: str, rest: list[str]) -> str:
    ds = list(result["datasets"])
    head = f"{'model':<22}" + "".join(f"{d[:18]:>20}" for d in ds) + f"{'texts/s':>10}{'x teacher':>10}{'p50 ms':>8}"
    lines = [head]
    teacher_speed = result["speed"]["teacher"]["texts_per_s_batch64"]
    for label, key in [("teacher", "teacher"), (first, "model"), *[(r, r) for r in rest]]:
        f1s = [(result["datasets"][d]["teacher"] if key == "teacher" else result["datasets"][d] if key == "model"
                else result["datasets"][d][key])["macro_f1"] for d in ds]
        sp = result["speed"][key]
        lines.append(f"{label:<22}" + "".join(f"{f:>20.4f}" for f in f1s)
                     + f"{sp['texts_per_s_batch64']:>10.1f}{sp['texts_per_s_batch64'] / teacher_speed:>10.1f}"
                     + f"{sp['latency_ms_batch1_p50']:>8.2f}")
    lines.append("macro-F1 per held-out dataset; speed at batch 64 (texts/s) and batch-1 latency, one process, "
                 f"{result['speed']['threads']} threads, tokenisation included")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
