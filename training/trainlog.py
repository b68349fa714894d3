"""A training log: one CSV row per logged step, and the loss/metric curves as a PNG."""
from __future__ import annotations

import csv
from pathlib import Path


class TrainLog:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.rows: list[dict] = []

    def log(self, **row) -> None:
        self.rows.append(row)
        fields = list(dict.fromkeys(k for r in self.rows for k in r))
        with self.path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            w.writerows(self.rows)

    def plot(self, png: str | Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
        steps = [r["step"] for r in self.rows if "loss" in r]
        for key in sorted({k for r in self.rows for k in r if k.startswith("loss")}):
            pts = [(r["step"], r[key]) for r in self.rows if key in r]
            ax1.plot([p[0] for p in pts], [p[1] for p in pts], label=key)
        ax1.set(xlabel="step", ylabel="training loss (running mean)", title="loss")
        ax1.legend()
        evals = [r for r in self.rows if "val_macro_f1" in r]
        ax2.plot([r["step"] for r in evals], [r["val_macro_f1"] for r in evals], marker="o")
        ax2.set(xlabel="step", ylabel="validation macro-F1", title="validation")
        if steps:
            ax2.set_xlim(0, max(steps))
        fig.tight_layout()
        fig.savefig(png, dpi=110)
        plt.close(fig)
