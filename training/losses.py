"""Distillation losses: temperature-softened KL on probabilities, and feature matching on hidden states."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

FEATURE_LOSSES = ("mse", "cosine", "cosine_target")
KD_LOSSES = ("kl", "mse")


def kd_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """T^2 * KL(softmax(teacher/T) || softmax(student/T)), averaged over the batch (Hinton et al., 2015).

    The T^2 factor keeps the gradient scale of the soft term independent of T."""
    t = temperature
    log_p_s = F.log_softmax(student_logits / t, dim=-1)
    log_p_t = F.log_softmax(teacher_logits / t, dim=-1)
    return (t * t) * F.kl_div(log_p_s, log_p_t, reduction="batchmean", log_target=True)


def kd_logit_mse(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """Squared distance between the student's and the teacher's logits, each centred over the classes (so an
    offset that softmax ignores costs nothing), summed over classes and averaged over the batch.

    Logit matching is the limit of the T^2-scaled KL as T grows (Hinton et al., 2015) and the loss Tang et
    al. (2019) used to distil BERT into a BiLSTM: it keeps the teacher's margins, which the softmax squashes."""
    s = student_logits - student_logits.mean(-1, keepdim=True)
    t = teacher_logits - teacher_logits.mean(-1, keepdim=True)
    return ((s - t) ** 2).sum(-1).mean()


class FeatureProjection(nn.Module):
    """Learned linear map from the student's feature width to the teacher's (identity when they match)."""

    def __init__(self, student_dim: int, teacher_dim: int):
        super().__init__()
        self.proj = nn.Identity() if student_dim == teacher_dim else nn.Linear(student_dim, teacher_dim)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.proj(h)


def feature_loss(student_h: torch.Tensor, teacher_h: torch.Tensor, kind: str = "mse", target: float = 1.0,
                 mask: torch.Tensor | None = None) -> torch.Tensor:
    """Distance between (projected) student and teacher hidden states, averaged over the batch.

    ``mse``: mean squared error. ``cosine``: 1 - cos. ``cosine_target``: (cos(H_T,i, H_S,i) - a)^2 summed over
    the feature vectors i of a text, with target similarity ``a`` (a = 1 pulls the directions together).
    Token-level states are (batch, length, width) with a (batch, length) ``mask``: padding positions count
    for nothing, mse and cosine average over the real pieces and cosine_target sums over a text's pieces."""
    if kind not in FEATURE_LOSSES:
        raise ValueError(f"unknown feature loss {kind!r}; expected one of {FEATURE_LOSSES}")
    m = student_h.new_ones(student_h.shape[:-1]) if mask is None else mask.to(student_h.dtype)
    if kind == "mse":
        per = ((student_h - teacher_h) ** 2).mean(-1)
    else:
        cos = F.cosine_similarity(student_h, teacher_h, dim=-1)
        if kind == "cosine_target":
            sq = ((cos - target) ** 2) * m
            return sq.sum(-1).mean() if sq.dim() > 1 else sq.mean()
        per = 1.0 - cos
    return (per * m).sum() / m.sum().clamp(min=1.0)


def distillation_loss(student_logits, teacher_logits, labels, has_label, student_h, teacher_h, projection,
                      alpha: float, beta: float, gamma: float, temperature: float, feature_kind: str = "mse",
                      cos_target: float = 1.0, feature_mask: torch.Tensor | None = None, kd: str = "kl"
                      ) -> tuple[torch.Tensor, dict[str, float]]:
    """alpha * CE(hard labels, labelled rows only) + beta * soft term + gamma * feature loss; parts for logging.

    The soft term is T^2 KL (``kd="kl"``) or the centred logits' squared distance (``kd="mse"``, no T).
    ``feature_mask`` marks the real word pieces when the hidden states are per piece (token level)."""
    if kd not in KD_LOSSES:
        raise ValueError(f"unknown soft-target loss {kd!r}; expected one of {KD_LOSSES}")
    total = student_logits.new_zeros(())
    parts = {}
    if alpha > 0 and bool(has_label.any()):
        ce = F.cross_entropy(student_logits[has_label], labels[has_label])
        total = total + alpha * ce
        parts["loss_ce"] = ce.item()
    if beta > 0:
        soft = kd_kl(student_logits, teacher_logits, temperature) if kd == "kl" else \
            kd_logit_mse(student_logits, teacher_logits)
        total = total + beta * soft
        parts[f"loss_{kd}"] = soft.item()
    if gamma > 0:
        fl = feature_loss(projection(student_h), teacher_h, feature_kind, cos_target, feature_mask)
        total = total + gamma * fl
        parts["loss_feat"] = fl.item()
    return total, parts
