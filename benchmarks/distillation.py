"""Does distillation earn its place? Student variants side by side with their teacher, on the held-out split.

Trains each variant (same split, same seed, teacher outputs cached and shared), then evaluates all of them
and the teacher in one process: quality per held-out dataset (FPB, its all-agree part, each tweet set) and
speed measured in interleaved rounds, so the throughput ratios compare like with like.

    python -m benchmarks.distillation --teacher runs/teacher --out runs/bench [--epochs 2] [--only hard_only cnn]
        [--ensemble runs/teacher2]    # adds the variant "ensemble" and the ensemble teacher's own row
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
from training.metrics import format_difference

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

# Each variant changes the default recipe (DistillArgs' defaults; models/default is that recipe distilled from
# two teachers) in the fields named; "transfer": False trains without the unlabelled stream, "augment": 0
# without the perturbed copies.
VARIANTS: dict[str, dict] = {
    "hard_only":          {"alpha": 1.0, "beta": 0.0, "transfer": False, "augment": 0},
    "prob_labelled_only": {"transfer": False, "augment": 0},
    "prob_stream":        {"augment": 0},
    "prob_augment":       {"transfer": False},
    "prob_stream_augment": {},
    "prob_kl":            {"kd_loss": "kl"},  # the soft term as softened-probability KL instead of logit matching
    "pure_kd":            {"alpha": 0.0, "beta": 1.0},
    "feature":            {"alpha": 1.0, "beta": 0.0, "gamma": 0.5},
    "prob_feature":       {"gamma": 0.5},
    "prob_feature_cos":   {"gamma": 0.5, "feature_loss": "cosine_target"},
    "cnn":                {"student": "cnn"},
    "transformer":        {"student": "transformer", "epochs": 0.5, "prune_vocab": True},  # a step costs ~10x a BiLSTM
    "ensemble":           {"ensemble": "--ensemble"},  # the default recipe, targets from --teacher + --ensemble
}


def variant_args(name: str, teacher: Path, epochs: float, ensemble=()) -> tuple[DistillArgs, bool]:
    """The variant's arguments, and whether it uses the unlabelled stream."""
    change = dict(VARIANTS[name])
    use_stream = change.pop("transfer", True)
    if "ensemble" in change:
        if not ensemble:
            sys.exit(f"variant {name!r} needs the further teachers: pass --ensemble DIR [DIR ...]")
        change["ensemble"] = tuple(str(t) for t in ensemble)
    change["epochs"] = min(change.get("epochs", epochs), epochs)
    return DistillArgs(teacher=str(teacher), **change), use_stream


def train_variant(name: str, a, train, val, transfer) -> dict:
    args, use_stream = variant_args(name, a.teacher, a.epochs, a.ensemble)
    return distil(args, train, val, transfer if use_stream else [], a.out / name, a.cache_dir)


def train_in_parallel(names: list[str], a) -> None:
    """Each variant in its own process with one torch thread, ``a.jobs`` at a time: on a small CPU, small
    recurrent models train faster side by side than one after another on all cores."""
    import os
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    def run(name: str) -> int:
        a.out.mkdir(parents=True, exist_ok=True)
        with open(a.out / f"{name}.log", "w") as log:
            cmd = [sys.executable, "-m", "benchmarks.distillation", "--only", name, "--train-only",
                   "--teacher", str(a.teacher), "--out", str(a.out), "--unlabeled", str(a.unlabeled),
                   "--epochs", str(a.epochs), "--transfer-limit", str(a.transfer_limit), "--cache-dir", str(a.cache_dir),
                   *(["--ensemble", *map(str, a.ensemble)] if a.ensemble else [])]
            code = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1"})
        print(f"{name}: {'done' if code == 0 else f'failed ({code}), see ' + str(a.out / (name + '.log'))}", flush=True)
        return code

    with ThreadPoolExecutor(a.jobs) as pool:
        failed = [n for n, code in zip(names, pool.map(run, names)) if code]
    if failed:
        sys.exit(f"variants failed: {failed}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--teacher", type=Path, default=Path("runs/teacher"))
    p.add_argument("--out", type=Path, default=Path("runs/bench"))
    p.add_argument("--ensemble", type=Path, nargs="*", default=[],
                   help="further teachers (same tokenizer and split as --teacher) for the 'ensemble' variant")
    p.add_argument("--unlabeled", type=Path, default=SHARED / "news_stream.csv")
    p.add_argument("--epochs", type=float, default=2.0, help="at most this many epochs per variant")
    p.add_argument("--transfer-limit", type=int, default=DistillArgs.transfer_limit)
    p.add_argument("--cache-dir", type=Path, default=Path("runs/cache"), help="teacher outputs shared between runs")
    p.add_argument("--only", nargs="*", default=None, choices=sorted(VARIANTS))
    p.add_argument("--include", nargs="*", default=["models/default"], help="extra artifacts to evaluate alongside")
    p.add_argument("--skip-training", action="store_true", help="evaluate what is already under --out")
    p.add_argument("--train-only", action="store_true", help="train the variants, evaluate nothing")
    p.add_argument("--jobs", type=int, default=2, help="variants trained side by side, one thread each")
    a = p.parse_args(argv)
    split = a.teacher / "split"
    if not split.is_dir():
        sys.exit(f"expected the teacher's held-out split in {split}; train the teacher with finsentry train-teacher")
    train, val, test = (pd.read_csv(split / f"{n}.csv") for n in ("train", "val", "test"))
    names = a.only or [n for n in VARIANTS if n != "ensemble" or a.ensemble]
    if not a.skip_training and a.jobs > 1 and len(names) > 1:
        # First one variant per block of teacher outputs (labelled + stream, augmented copies, labelled only),
        # so that the later ones find them all cached; then the rest side by side.
        first = [n for n in ("prob_stream_augment", "prob_labelled_only") if n in names]
        train_in_parallel(first, a)
        train_in_parallel([n for n in names if n not in first], a)
        a.skip_training = True
    transfer = []
    if not a.skip_training:
        transfer = load_unlabelled(a.unlabeled, "headline", a.transfer_limit,
                                   exclude=list(train["text"]) + list(val["text"]) + list(test["text"]))
    summaries = {}
    for name in names:
        if not a.skip_training:
            summaries[name] = train_variant(name, a, train, val, transfer)
        elif (a.out / name / "distill_summary.json").is_file():
            summaries[name] = json.loads((a.out / name / "distill_summary.json").read_text())
    if a.train_only:
        return 0
    models = {name: Predictor.load(a.out / name, device="cpu") for name in summaries}
    for extra in a.include:
        if Path(extra, "config.json").is_file():
            models[Path(extra).name] = Predictor.load(extra, device="cpu")
            models[Path(extra).name + "_int8"] = Predictor.load(extra, device="cpu", quantize="int8")
    datasets = {k.removeprefix("test_"): v for k, v in
                datasets_from_files(sorted(split.glob("test_*.csv"))).items()}
    teacher = Predictor.load(a.teacher, device="cpu")
    if a.ensemble:
        models["teacher_ensemble"] = Predictor.average(
            [teacher, *(Predictor.load(t, device="cpu") for t in a.ensemble)])
    first, *rest = models
    result = evaluate(models[first], datasets, teacher, extra_models={k: models[k] for k in rest})
    result["variants"] = {n: {"args": s["args"], "best_val": s["best"], "train_seconds": s["train_seconds"],
                              "transfer_rows": s["transfer_rows"], "augmented_rows": s.get("augmented_rows", 0)}
                          for n, s in summaries.items()}
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
    for other in ("teacher", "teacher_ensemble"):
        if all(other in result["datasets"][d].get("macro_f1_diff", {}) for d in ds):
            lines.append(f"{first} minus {other}, macro-F1 [95% paired bootstrap interval]: " + "; ".join(
                f"{d} {format_difference(result['datasets'][d]['macro_f1_diff'][other])}" for d in ds))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
