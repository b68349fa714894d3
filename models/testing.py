"""Helpers for tests of code that needs a model: a tiny random-weight student, written in milliseconds."""
from __future__ import annotations

from pathlib import Path

import torch

from .artifact import save_student
from .pretrained import minilm_path
from .student import BiLSTMConfig, BiLSTMStudent


def make_tiny_artifact(out: str | Path, seed: int = 0, max_length: int = 64) -> Path:
    """A real artifact (config, safetensors, tokenizer) with a tiny untrained BiLSTM: scores are arbitrary
    but deterministic, and loading and serving exercise every production code path."""
    torch.manual_seed(seed)
    model = BiLSTMStudent(BiLSTMConfig(embed_dim=8, hidden=8, dropout=0.0))
    save_student(out, model, "bilstm", minilm_path() / "tokenizer.json", max_length,
                 extra={"note": "tiny random test model"})
    return Path(out)
