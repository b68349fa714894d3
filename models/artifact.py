"""The student artifact: a self-describing directory.

    config.json        architecture + arguments, label names, max length, version (a content hash), provenance
    model.safetensors  weights (and the vocabulary map when the vocabulary was pruned)
    tokenizer.json     the teacher's fast tokenizer
    metrics.json       evaluation figures written by training
    MODEL_CARD.md      data and licences, recipe, metrics, speed, intended use and limits

The version is a hash of the config (without the version itself), the weights and the tokenizer, so two
artifacts with the same version score identically.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from .errors import ModelError
from .student import build_student, config_dict

FORMAT = 1
LABELS = ("negative", "neutral", "positive")
ID_MAP_KEY = "__vocab_map__"


def _content_hash(config: dict, weights: Path, tokenizer: Path) -> str:
    h = hashlib.sha256()
    body = {k: v for k, v in config.items() if k not in ("version", "created")}
    h.update(json.dumps(body, sort_keys=True).encode())
    for path in (weights, tokenizer):
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def save_student(out: str | Path, model: torch.nn.Module, arch: str, tokenizer_file: str | Path, max_length: int,
                 labels=LABELS, id_map: np.ndarray | None = None, extra: dict | None = None,
                 half: tuple[str, ...] = ()) -> str:
    """Write an artifact directory and return its version. Tensors named in ``half`` are stored as float16 (half
    the bytes) and must be exactly representable in it, like a frozen table rounded when it was made, so the
    loaded model scores as the saved one did; loading casts them back to the model's float32."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for key in half:
        if key not in tensors:
            raise ModelError(f"half={half!r}: expected names of the model's tensors, got {key!r} (not in its state)")
        stored = tensors[key].half()
        if not torch.equal(stored.float(), tensors[key].float()):
            raise ModelError(f"{key} is not exactly representable in float16 (expected a tensor rounded to float16 "
                             "when it was made, e.g. a frozen embedding); storing it so would change predictions")
        tensors[key] = stored
    if id_map is not None:
        tensors[ID_MAP_KEY] = torch.as_tensor(id_map, dtype=torch.int32)
    save_file(tensors, str(out / "model.safetensors"))
    if Path(tokenizer_file).resolve() != (out / "tokenizer.json").resolve():
        shutil.copyfile(tokenizer_file, out / "tokenizer.json")
    config = {"finsentry_format": FORMAT, "kind": "student", "architecture": arch, "args": config_dict(model),
              "labels": list(labels), "max_length": int(max_length), "vocab_pruned": id_map is not None,
              **(extra or {})}
    config["version"] = f"{arch}-{_content_hash(config, out / 'model.safetensors', out / 'tokenizer.json')}"
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return config["version"]


def read_config(path: str | Path) -> dict:
    path = Path(path)
    cfg_file = path / "config.json"
    if not cfg_file.is_file():
        raise ModelError(f"expected a model directory with config.json, got {path} (no config.json there)")
    try:
        return json.loads(cfg_file.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{cfg_file} is not valid JSON: {exc}") from exc


def is_student(path: str | Path) -> bool:
    return "finsentry_format" in read_config(path)


def load_student(path: str | Path) -> tuple[torch.nn.Module, dict, np.ndarray | None]:
    """Rebuild the student (eval mode, CPU) and return (model, config, id_map)."""
    path = Path(path)
    config = read_config(path)
    if config.get("finsentry_format") != FORMAT:
        raise ModelError(f"{path}/config.json: expected finsentry_format {FORMAT}, got {config.get('finsentry_format')!r}")
    for key in ("architecture", "args", "labels", "max_length"):
        if key not in config:
            raise ModelError(f"{path}/config.json lacks {key!r}; expected keys architecture, args, labels, max_length")
    weights = path / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"expected weights at {weights}, found none")
    tensors = load_file(str(weights))
    id_map = tensors.pop(ID_MAP_KEY, None)
    model = build_student(config["architecture"], config["args"])
    try:
        model.load_state_dict(tensors)  # copies into the model's float32 parameters (float16-stored ones too)
    except RuntimeError as exc:
        raise ModelError(f"weights in {weights} do not fit architecture {config['architecture']!r}: {exc}") from exc
    model.eval()
    return model, config, None if id_map is None else id_map.numpy()


def write_json(path: str | Path, obj) -> None:
    Path(path).write_text(json.dumps(obj, indent=2, sort_keys=False, default=float) + "\n")
