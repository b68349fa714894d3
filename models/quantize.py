"""int8 dynamic quantisation for CPU serving: weights stored in int8, activations quantised on the fly."""
from __future__ import annotations

import warnings

import torch


def quantize_dynamic_int8(model: torch.nn.Module) -> torch.nn.Module:
    # torch.ao's dynamic quantisation is deprecated in favour of torchao, but it is in the pinned torch,
    # needs no extra package and covers nn.LSTM, which torchao's CPU path does not.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(model, {torch.nn.Linear, torch.nn.LSTM}, dtype=torch.qint8)
