"""Evaluate a student (and optionally its teacher) on labelled files: quality per dataset and speed side by side."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from models import Predictor
from models.labels import LABELS

from .data import load_labelled
from .metrics import classification_report, format_difference, label_ids, macro_f1_difference
from .speed import measure_speed


def datasets_from_files(paths: Sequence[str | Path], text_col="text", label_col="label", label_map=None) -> dict:
    """{stem: frame}; a file with an ``agreement`` column also yields ``{stem}_allagree`` (agreement == 100)."""
    out = {}
    for p in paths:
        df, _ = load_labelled([p], text_col, label_col, label_map)
        out[Path(p).stem] = df
        if df["agreement"].notna().any():
            agree = df[df["agreement"] >= 100]
            if len(agree):
                out[f"{Path(p).stem}_allagree"] = agree.reset_index(drop=True)
    return out


def plot_confusion(matrix, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(4.2, 3.8))
    ax.imshow(m, cmap="Blues")
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, str(v), ha="center", va="center", color="white" if v > m.max() / 2 else "black")
    ax.set(xticks=range(len(LABELS)), yticks=range(len(LABELS)), xticklabels=LABELS, yticklabels=LABELS,
           xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def evaluate(model: Predictor, datasets: dict, teacher: Predictor | None = None, png_dir: Path | None = None,
             speed_texts: int = 512, extra_models: dict | None = None) -> dict:
    result = {"model_version": model.version, "datasets": {}}
    for name, df in datasets.items():
        y = label_ids(df["label"])
        probs = model.predict_proba(list(df["text"]))
        entry = classification_report(probs, y)
        others = {**({"teacher": teacher} if teacher is not None else {}), **(extra_models or {})}
        if others:
            entry["macro_f1_diff"] = {}  # this model minus each other one, with a paired bootstrap interval
        for label, other in others.items():
            o_probs = other.predict_proba(list(df["text"]))
            entry[label] = classification_report(o_probs, y)
            entry["macro_f1_diff"][label] = macro_f1_difference(y, probs.argmax(1), o_probs.argmax(1))
            if label == "teacher":
                entry["agreement_with_teacher"] = float((o_probs.argmax(1) == probs.argmax(1)).mean())
        result["datasets"][name] = entry
        if png_dir is not None:
            png_dir.mkdir(parents=True, exist_ok=True)
            plot_confusion(entry["confusion"], f"{name} (student)", png_dir / f"confusion_{name}.png")
            if teacher is not None:
                plot_confusion(entry["teacher"]["confusion"], f"{name} (teacher)", png_dir / f"confusion_{name}_teacher.png")
    texts = [t for df in datasets.values() for t in df["text"]][:speed_texts]
    predictors = {"model": model, **(extra_models or {}), **({"teacher": teacher} if teacher is not None else {})}
    result["speed"] = {"threads": torch.get_num_threads(), **measure_speed(predictors, texts)}
    if teacher is not None:
        result["speed"]["throughput_ratio_vs_teacher"] = round(
            result["speed"]["model"]["texts_per_s_batch64"] / result["speed"]["teacher"]["texts_per_s_batch64"], 2)
    return result


def format_table(result: dict) -> str:
    lines = [f"model {result['model_version']}",
             f"{'dataset':<22}{'n':>6}{'acc':>8}{'macro-F1':>10}{'ECE':>7}{'teacher F1':>12}{'agree':>7}"
             f"  {'minus teacher, 95% CI':<24}"]
    for name, e in result["datasets"].items():
        t = e.get("teacher", {})
        d = e.get("macro_f1_diff", {}).get("teacher")
        lines.append(f"{name:<22}{e['n']:>6}{e['accuracy']:>8.4f}{e['macro_f1']:>10.4f}{e['ece']:>7.3f}"
                     f"{t.get('macro_f1', float('nan')):>12.4f}{e.get('agreement_with_teacher', float('nan')):>7.3f}"
                     + (f"  {format_difference(d)}" if d else ""))
    for name, s in result["speed"].items():
        if isinstance(s, dict):
            lines.append(f"speed {name:<10} {s['texts_per_s_batch64']:>9.1f} texts/s at batch 64, "
                         f"batch-1 p50 {s['latency_ms_batch1_p50']:.2f} ms")
    return "\n".join(lines)


def evaluate_artifact(model_dir: str | Path, teachers: Sequence[str] | str | None, test_dir: Path,
                      device: str = "cpu") -> dict:
    """Evaluate a freshly distilled artifact on its held-out split; write metrics.json and MODEL_CARD.md into it.

    Several teachers are compared as the ensemble the student learnt from, each member also on its own."""
    from .card import write_model_card

    model_dir = Path(model_dir)
    files = sorted(test_dir.glob("test_*.csv"))
    datasets = {k.removeprefix("test_"): v for k, v in datasets_from_files(files).items()}
    model = Predictor.load(model_dir, device=device)
    teachers = [teachers] if isinstance(teachers, (str, Path)) else list(teachers or [])
    members = [Predictor.load(t, device=device) for t in teachers]
    teacher_p = Predictor.average(members) if members else None
    singles = {f"teacher_{k}": m for k, m in enumerate(members)} if len(members) > 1 else None
    result = evaluate(model, datasets, teacher_p, png_dir=model_dir / "eval", extra_models=singles)
    if singles:
        result["teachers"] = {f"teacher_{k}": str(t) for k, t in enumerate(teachers)}
        fastest = max(result["speed"][k]["texts_per_s_batch64"] for k in singles)
        result["speed"]["throughput_ratio_vs_fastest_single_teacher"] = round(
            result["speed"]["model"]["texts_per_s_batch64"] / fastest, 2)
    summary = json.loads((model_dir / "distill_summary.json").read_text())
    metrics = {"held_out": result, "validation": summary["best"], "training": summary}
    (model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_model_card(model_dir, metrics)
    print(format_table(result), file=sys.stderr)
    return metrics
