"""Serving-side model code: student architectures, artifacts, tokenisation and batched prediction.

    from models import Predictor
    scores = Predictor.load("models/default").predict(["Shares jump after record quarter"])

Imports only torch, tokenizers, transformers and safetensors; never training code.
"""
from .errors import ModelError
from .labels import LABELS
from .predictor import Predictor, Score

__all__ = ["LABELS", "ModelError", "Predictor", "Score"]
