"""Labelled and unlabelled text data: reading, label normalisation, de-duplication and splitting.

Every file is read with pandas (CSV, JSONL or Parquet by extension). Only the text and label columns are
used; others are ignored. Texts are de-duplicated on a normalised form (case, URLs and white space folded),
so a retweet or a copy in a second file can never sit on both sides of a split.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd
from sklearn.model_selection import train_test_split

from models.labels import LABELS, normalise_label
from models.errors import ModelError

from .errors import TrainingError

READERS = {".csv": pd.read_csv, ".jsonl": lambda p: pd.read_json(p, lines=True), ".json": lambda p: pd.read_json(p, lines=True),
           ".parquet": pd.read_parquet, ".pq": pd.read_parquet}
_URL = re.compile(r"https?://\S+")
_SPACE = re.compile(r"\s+")


def parse_label_map(spec: str | None) -> dict[str, str] | None:
    """'0=negative,1=neutral,2=positive' -> {'0': 'negative', ...}."""
    if not spec:
        return None
    out = {}
    for part in spec.split(","):
        raw, sep, name = part.partition("=")
        if not sep or not raw.strip() or name.strip() not in LABELS:
            raise TrainingError(f"bad label map entry {part!r}; expected RAW=NAME with NAME in {LABELS}, "
                                "e.g. 0=negative,1=neutral,2=positive")
        out[raw.strip()] = name.strip()
    return out


def read_frame(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise TrainingError(f"{path}: unsupported file type {path.suffix!r}; expected one of {sorted(READERS)}")
    if not path.is_file():
        raise TrainingError(f"{path}: no such file")
    try:
        return reader(path)
    except Exception as exc:  # pandas raises many types for unreadable files
        raise TrainingError(f"{path}: could not be read as {path.suffix[1:]}: {exc}") from exc


def _require(df: pd.DataFrame, path: Path, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise TrainingError(f"{path}: missing column(s) {missing}; expected {list(cols)}, found {list(df.columns)}")
    if df.empty:
        raise TrainingError(f"{path}: no rows; expected at least one row with columns {list(cols)}")


def normalise_text(text: str) -> str:
    return _SPACE.sub(" ", _URL.sub("", text.lower())).strip()


@dataclass
class LoadReport:
    rows: int = 0
    empty: int = 0
    duplicates: int = 0

    def __str__(self) -> str:
        return f"{self.rows} rows read, {self.empty} empty texts and {self.duplicates} duplicates dropped"


def load_labelled(paths: Sequence[str | Path], text_col: str = "text", label_col: str = "label",
                  label_map: Mapping[str, str] | None = None) -> tuple[pd.DataFrame, LoadReport]:
    """Read labelled files into one frame with columns text, label, source (file stem) and agreement (or NaN)."""
    frames, report = [], LoadReport()
    for p in paths:
        p = Path(p)
        df = read_frame(p)
        _require(df, p, [text_col, label_col])
        raw = df[label_col]
        if label_map is None and pd.api.types.is_numeric_dtype(raw) and raw.dropna().isin([2]).any():
            raise TrainingError(f"{p}: numeric labels {sorted(raw.dropna().unique().tolist())} are ambiguous; "
                                "pass a label map such as --label-map 0=negative,1=neutral,2=positive")
        try:
            labels = [normalise_label(v, label_map) for v in raw]
        except ModelError as exc:
            raise TrainingError(f"{p}: {exc}") from exc
        out = pd.DataFrame({"text": df[text_col], "label": labels, "source": p.stem,
                            "agreement": df["agreement"] if "agreement" in df.columns else float("nan")})
        report.rows += len(out)
        frames.append(out)
    data = pd.concat(frames, ignore_index=True)
    texts_ok = data["text"].map(lambda t: isinstance(t, str) and bool(t.strip()))
    report.empty = int((~texts_ok).sum())
    data = data[texts_ok].copy()
    key = data["text"].map(normalise_text)
    dup = key.duplicated()
    report.duplicates = int(dup.sum())
    data = data[~dup].reset_index(drop=True)
    if data.empty:
        raise TrainingError(f"no usable rows in {[str(p) for p in paths]}: {report}")
    return data, report


def split(data: pd.DataFrame, fractions: Sequence[float], seed: int = 13) -> list[pd.DataFrame]:
    """Stratified (by source and label) split into parts of the given fractions (the rest is the first part)."""
    strata = data["source"] + "/" + data["label"]
    parts, rest = [], data
    remaining = 1.0
    for frac in fractions:
        if not 0 < frac < remaining:
            raise TrainingError(f"split fractions must be positive and sum below 1, got {list(fractions)}")
        rest, part = train_test_split(rest, test_size=frac / remaining, random_state=seed,
                                      stratify=strata.loc[rest.index])
        parts.append(part.reset_index(drop=True))
        remaining -= frac
    return [rest.reset_index(drop=True), *parts]


def load_unlabelled(path: str | Path, text_col: str = "text", limit: int | None = None,
                    exclude: Sequence[str] = ()) -> list[str]:
    """Distinct non-empty texts of one column, in file order, minus any in ``exclude`` (normalised)."""
    path = Path(path)
    df = read_frame(path)
    _require(df, path, [text_col])
    seen = {normalise_text(t) for t in exclude}
    out = []
    for t in df[text_col]:
        if not isinstance(t, str) or not t.strip():
            continue
        key = normalise_text(t)
        if key in seen or not key:
            continue
        seen.add(key)
        out.append(t)
        if limit is not None and len(out) >= limit:
            break
    return out
