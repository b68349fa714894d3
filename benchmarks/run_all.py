"""``make bench``: every benchmark, each printing figures measured side by side in one run.

The distillation benchmark needs a trained teacher (runs/teacher, from `make default-model` or
`finsentry train-teacher`) and the data in ../shared/data; it is skipped with a note when they are absent.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHES = [
    ("shift detectors", ["benchmarks.detectors"], None),
    ("distillation", ["benchmarks.distillation", "--skip-training"], Path("runs/bench")),
    ("stream throughput", ["benchmarks.stream_throughput"], None),
]


def main() -> int:
    failed = 0
    for title, args, needs in BENCHES:
        print(f"\n=== {title} ===", flush=True)
        if needs is not None and not needs.exists():
            print(f"skipped: {needs} not found (train the variants with python -m benchmarks.distillation)")
            continue
        failed += subprocess.call([sys.executable, "-m", *args]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
