"""Student architectures: small, fast sentiment classifiers over the teacher's word pieces.

Every student maps (input_ids, attention_mask) to (logits, features), where ``features`` is the pooled
representation that feature distillation matches to the teacher's; students with one state per word piece
(``token_dim`` set) also return those states on request, for token-level feature distillation. Each
architecture has a frozen config dataclass; the artifact stores its fields so the model can be rebuilt
without any training code.
Imports only torch (and transformers for the transformer student).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn


@dataclass(frozen=True)
class BiLSTMConfig:
    vocab_size: int = 30522
    embed_dim: int = 128
    hidden: int = 128
    layers: int = 1
    num_labels: int = 3
    dropout: float = 0.25
    pad_id: int = 0


@dataclass(frozen=True)
class CNNConfig:
    vocab_size: int = 30522
    embed_dim: int = 128
    channels: int = 192
    kernel_sizes: tuple[int, ...] = (2, 3, 4)
    num_labels: int = 3
    dropout: float = 0.25
    pad_id: int = 0


@dataclass(frozen=True)
class TransformerConfig:
    """A compact BERT: a subset of the teacher's layers (weights copied at distillation time)."""

    bert: dict = field(default_factory=dict)  # a transformers BertConfig as a dict
    num_labels: int = 3


def _masked_mean_max(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(h.dtype)
    mean = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
    mx = h.masked_fill(m == 0, torch.finfo(h.dtype).min).amax(1)
    return torch.cat([mean, mx], dim=-1)


class BiLSTMStudent(nn.Module):
    """Word-piece embeddings -> BiLSTM -> mean+max pooling -> linear head."""

    def __init__(self, cfg: BiLSTMConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed_dim, padding_idx=cfg.pad_id)
        self.lstm = nn.LSTM(cfg.embed_dim, cfg.hidden, num_layers=cfg.layers, batch_first=True, bidirectional=True,
                            dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.drop = nn.Dropout(cfg.dropout)
        self.feature_dim = 4 * cfg.hidden
        self.token_dim = 2 * cfg.hidden
        self.head = nn.Linear(self.feature_dim, cfg.num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, return_tokens: bool = False):
        """(logits, pooled features), and with ``return_tokens`` also the per-piece states (batch, length, token_dim)."""
        x = self.drop(self.embed(input_ids))
        lengths = attention_mask.sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        h, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=input_ids.shape[1])
        feats = _masked_mean_max(h, attention_mask)
        logits = self.head(self.drop(feats))
        return (logits, feats, h) if return_tokens else (logits, feats)


class CNNStudent(nn.Module):
    """Word-piece embeddings -> parallel 1-D convolutions -> max pooling -> linear head (Kim, 2014)."""

    def __init__(self, cfg: CNNConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed_dim, padding_idx=cfg.pad_id)
        self.convs = nn.ModuleList(nn.Conv1d(cfg.embed_dim, cfg.channels, k, padding=k - 1) for k in cfg.kernel_sizes)
        self.drop = nn.Dropout(cfg.dropout)
        self.feature_dim = cfg.channels * len(cfg.kernel_sizes)
        self.token_dim = None  # no one state per word piece: its features are max-pooled n-gram filters
        self.head = nn.Linear(self.feature_dim, cfg.num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        x = self.drop(self.embed(input_ids)).transpose(1, 2)
        pooled = []
        for conv in self.convs:
            h = torch.relu(conv(x))[:, :, : input_ids.shape[1]]
            h = h.masked_fill(attention_mask.unsqueeze(1) == 0, 0.0)
            pooled.append(h.amax(2))
        feats = torch.cat(pooled, dim=-1)
        return self.head(self.drop(feats)), feats


class TransformerStudent(nn.Module):
    """A shallow BERT encoder; features are the mean-pooled last hidden state."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        from transformers import BertConfig, BertModel

        self.cfg = cfg
        self.bert = BertModel(BertConfig(**cfg.bert), add_pooling_layer=False)
        self.feature_dim = self.token_dim = self.bert.config.hidden_size
        self.drop = nn.Dropout(self.bert.config.hidden_dropout_prob)
        self.head = nn.Linear(self.feature_dim, cfg.num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, return_tokens: bool = False):
        h = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        feats = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        logits = self.head(self.drop(feats))
        return (logits, feats, h) if return_tokens else (logits, feats)


ARCHITECTURES: dict[str, tuple[type, type]] = {
    "bilstm": (BiLSTMStudent, BiLSTMConfig),
    "cnn": (CNNStudent, CNNConfig),
    "transformer": (TransformerStudent, TransformerConfig),
}


def build_student(arch: str, args: dict) -> nn.Module:
    """Rebuild a student from its architecture name and config arguments (as stored in an artifact)."""
    from .errors import ModelError

    if arch not in ARCHITECTURES:
        raise ModelError(f"unknown student architecture {arch!r}; expected one of {sorted(ARCHITECTURES)}")
    model_cls, cfg_cls = ARCHITECTURES[arch]
    args = dict(args)
    if "kernel_sizes" in args:
        args["kernel_sizes"] = tuple(args["kernel_sizes"])
    try:
        cfg = cfg_cls(**args)
    except TypeError as exc:
        raise ModelError(f"bad arguments for student {arch!r}: {exc}") from exc
    return model_cls(cfg)


def config_dict(model: nn.Module) -> dict:
    return asdict(model.cfg)
