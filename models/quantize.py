"""int8 dynamic quantisation for CPU serving: weights stored in int8, activations quantised on the fly."""
from __future__ import annotations

import warnings

import torch

from .errors import ModelError


def quantize_dynamic_int8(model: torch.nn.Module) -> torch.nn.Module:
    # torch.ao's dynamic quantisation is deprecated in favour of torchao, but it is in the pinned torch,
    # needs no extra package and covers nn.LSTM, which torchao's CPU path does not.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(model, {torch.nn.Linear, torch.nn.LSTM}, dtype=torch.qint8)


def save_quantized(model_dir, out) -> str:
    """Copy a student artifact, marked so that ``Predictor.load`` serves it int8-quantised; returns its version.

    The weights stay fp32 on disk (dynamic quantisation is fast and deterministic at load time), so the copy
    is also a valid fp32 artifact for tools that ignore the mark."""
    import json
    import shutil
    from pathlib import Path

    from .artifact import read_config

    model_dir, out = Path(model_dir), Path(out)
    config = read_config(model_dir)
    if "finsentry_format" not in config:
        raise ModelError(f"{model_dir} is not a finsentry student artifact; only students are quantised here")
    if out.resolve() != model_dir.resolve():
        shutil.copytree(model_dir, out, dirs_exist_ok=True)
    config["quantize"] = "int8"
    config["version"] = config["version"].removesuffix("-int8") + "-int8"
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return config["version"]
