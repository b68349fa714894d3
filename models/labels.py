"""Label names: finsentry's three classes and the spellings of them found in the wild."""
from __future__ import annotations

from typing import Mapping

from .errors import ModelError

LABELS = ("negative", "neutral", "positive")

ALIASES = {
    "negative": "negative", "neg": "negative", "bearish": "negative", "-1": "negative",
    "neutral": "neutral", "neu": "neutral", "0": "neutral",
    "positive": "positive", "pos": "positive", "bullish": "positive", "1": "positive", "+1": "positive",
}


def normalise_label(value, mapping: Mapping[str, str] | None = None) -> str:
    """Map one raw label to a finsentry label; ``mapping`` (raw -> name) wins over the built-in spellings."""
    key = str(value).strip()
    if key.endswith(".0"):  # pandas reads an integer column with gaps as floats
        key = key[:-2]
    if mapping is not None and key in mapping:
        return normalise_label(mapping[key])
    name = ALIASES.get(key.lower())
    if name is None:
        raise ModelError(f"unknown label {value!r}; expected one of {LABELS}, bearish/bullish, -1/0/1, "
                         "or a mapping such as 0=negative,1=neutral,2=positive")
    return name


def id2label_order(id2label: Mapping[int, str], mapping: Mapping[str, str] | None = None) -> list[int]:
    """For a classifier whose output i is called id2label[i], the output index of each of LABELS in turn."""
    names = {}
    for i, raw in id2label.items():
        try:
            names[normalise_label(raw, mapping)] = int(i)
        except ModelError as exc:
            raise ModelError(f"cannot map the model's label {raw!r} (output {i}) onto {LABELS}: pass a label map") from exc
    missing = [name for name in LABELS if name not in names]
    if missing:
        raise ModelError(f"the model's labels {dict(id2label)} lack {missing}; expected all of {LABELS}")
    return [names[name] for name in LABELS]
