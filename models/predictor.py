"""Batched, deterministic scoring with a student artifact (or any Hugging Face classifier directory)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .artifact import is_student, load_student, read_config
from .errors import ModelError
from .labels import LABELS, id2label_order
from .tokenizer import Encoder


@dataclass(frozen=True)
class Score:
    label: str
    probs: dict[str, float]
    score: float  # P(positive) - P(negative), in [-1, 1]

    def to_dict(self) -> dict:
        return {"label": self.label, "probs": dict(self.probs), "score": self.score}


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ModelError(f"device must be auto, cpu or cuda[:N], got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(f"device {device!r} requested but CUDA is not available on this machine")
    return torch.device(device)


def _check_texts(texts) -> list[str]:
    if isinstance(texts, (str, bytes)):
        raise ModelError("predict expects a sequence of strings, got a single string; wrap it in a list")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise ModelError(f"text {i} must be a str, got {type(t).__name__}")
        if not t.strip():
            raise ModelError(f"text {i} is empty; expected non-blank text")
    return texts


class Predictor:
    """``Predictor.load(dir).predict(texts) -> list[Score]``."""

    def __init__(self, model: torch.nn.Module, encoder: Encoder, version: str, device: torch.device,
                 order: list[int] | None = None, kind: str = "student"):
        self.model = model.to(device).eval()
        self.encoder = encoder
        self.version = version
        self.device = device
        self.kind = kind
        self.labels = LABELS
        self._order = None if order is None else torch.as_tensor(order)

    @property
    def max_length(self) -> int:
        return self.encoder.max_length

    @classmethod
    def load(cls, path: str | Path, device: str = "auto", quantize: str | None = None,
             max_length: int = 64, label_map: dict | None = None) -> "Predictor":
        """Load a student artifact, or a Hugging Face sequence-classifier directory (e.g. a teacher)."""
        path = Path(path)
        dev = resolve_device(device)
        if is_student(path):
            model, config, id_map = load_student(path)
            encoder = Encoder.from_file(path / "tokenizer.json", config["max_length"], id_map)
            order = id2label_order(dict(enumerate(config["labels"])))
            pred = cls(model, encoder, config["version"], dev, order, "student")
            if quantize is None and config.get("quantize") and dev.type == "cpu":
                quantize = config["quantize"]
                pred.version = pred.version.removesuffix("-" + quantize)
        else:
            pred = cls._load_hf(path, dev, max_length, label_map)
        if quantize:
            from .quantize import quantize_dynamic_int8

            if dev.type != "cpu":
                raise ModelError(f"int8 dynamic quantisation runs on CPU only; got device {dev}")
            if quantize != "int8":
                raise ModelError(f"quantize must be 'int8' or None, got {quantize!r}")
            pred.model = quantize_dynamic_int8(pred.model)
            pred.version += "-int8"
        return pred

    @classmethod
    def _load_hf(cls, path: Path, dev: torch.device, max_length: int, label_map: dict | None) -> "Predictor":
        from transformers import AutoModelForSequenceClassification

        config = read_config(path)
        if not (path / "tokenizer.json").is_file():
            raise ModelError(f"expected tokenizer.json beside the classifier in {path}")
        hf = AutoModelForSequenceClassification.from_pretrained(str(path))
        order = id2label_order(hf.config.id2label, label_map)
        weights = sorted(path.glob("*.safetensors")) or sorted(path.glob("*.bin"))
        h = hashlib.sha256(repr(sorted(config.items())).encode())
        for w in weights:
            h.update(w.read_bytes())
        return cls(_HFForward(hf), Encoder.from_file(path / "tokenizer.json", max_length), f"hf-{h.hexdigest()[:12]}",
                   dev, order, "teacher")

    @classmethod
    def average(cls, members: Sequence["Predictor"]) -> "Predictor":
        """An ensemble that scores with the mean of its members' logits (in LABELS order).

        Members must share one tokenizer and device (e.g. several fine-tunes of one base model)."""
        members = list(members)
        if not members:
            raise ModelError("an ensemble needs at least one member, got none")
        if len(members) == 1:
            return members[0]
        first = members[0]
        for i, m in enumerate(members[1:], 1):
            maps = (m.encoder.id_map, first.encoder.id_map)
            same_map = maps[0] is maps[1] or (all(x is not None for x in maps) and np.array_equal(*maps))
            if (m.encoder.tokenizer.to_str() != first.encoder.tokenizer.to_str() or m.max_length != first.max_length
                    or not same_map):
                raise ModelError(f"ensemble member {i} ({m.version}) tokenises differently from member 0 "
                                 f"({first.version}); expected one shared tokenizer, vocabulary map and max length")
            if m.device != first.device:
                raise ModelError(f"ensemble member {i} is on {m.device}, member 0 on {first.device}; expected one device")
        h = hashlib.sha256("+".join(m.version for m in members).encode()).hexdigest()[:12]
        kinds = {m.kind for m in members}
        return cls(_MeanLogits(members), first.encoder, f"ensemble{len(members)}-{h}", first.device, None,
                   kinds.pop() if len(kinds) == 1 else "ensemble")

    @torch.inference_mode()
    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Class probabilities in LABELS order, shape (n, 3)."""
        texts = _check_texts(texts)
        if batch_size < 1:
            raise ModelError(f"batch_size must be >= 1, got {batch_size}")
        out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        if not texts:
            return out
        ids = self.encoder.ids(texts)
        # Length-sorted batches waste little padding; results are put back in input order.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            input_ids, mask = self.encoder.pad([ids[i] for i in idx])
            logits, _ = self.model(input_ids.to(self.device), mask.to(self.device))
            if self._order is not None:
                logits = logits[:, self._order.to(logits.device)]
            out[idx] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        return out

    def predict(self, texts: Sequence[str], batch_size: int = 64) -> list[Score]:
        probs = self.predict_proba(texts, batch_size)
        neg, pos = LABELS.index("negative"), LABELS.index("positive")
        return [Score(LABELS[int(p.argmax())], {name: float(v) for name, v in zip(LABELS, p)}, float(p[pos] - p[neg]))
                for p in probs]


class _HFForward(torch.nn.Module):
    """Adapt a transformers classifier to the students' (logits, features) interface."""

    def __init__(self, hf):
        super().__init__()
        self.hf = hf

    def forward(self, input_ids, attention_mask):
        return self.hf(input_ids=input_ids, attention_mask=attention_mask).logits, None


class _MeanLogits(torch.nn.Module):
    """Mean of several predictors' logits, each put in LABELS order first."""

    def __init__(self, members):
        super().__init__()
        self.members = torch.nn.ModuleList(m.model for m in members)
        self._orders = [m._order for m in members]

    def forward(self, input_ids, attention_mask):
        total = None
        for model, order in zip(self.members, self._orders):
            logits, _ = model(input_ids, attention_mask)
            if order is not None:
                logits = logits[:, order.to(logits.device)]
            total = logits.float() if total is None else total + logits.float()
        return total / len(self.members), None
