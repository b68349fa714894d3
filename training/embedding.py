"""A student embedding that is a learned function of the teacher's, so unseen words keep their meaning.

A free embedding table learns only the rows its training texts use: those drift, and a word that only the
test set shows keeps its start value, in a space the student no longer reads. Freezing the table
(``DistillArgs.embed_mode`` "frozen", the default) fixes that at the cost of never adapting it.
``AdaptedEmbedding`` adapts every row the same way instead: row = frozen start + MLP(teacher's full-width embedding of the piece), so what it
learns on seen words carries over to every piece of the vocabulary. The MLP depends on the piece alone, so
``materialise`` folds it into a plain ``nn.Embedding`` for the artifact: serving costs the same as any table.
"""
from __future__ import annotations

import torch
from torch import nn


class AdaptedEmbedding(nn.Module):
    """``base[ids] + mlp(source[ids])``: ``base`` (V, d) and ``source`` (V, D) are frozen buffers."""

    def __init__(self, base: torch.Tensor, source: torch.Tensor, hidden: int):
        super().__init__()
        self.register_buffer("base", base.detach().float().clone())
        self.register_buffer("source", source.detach().float().clone())
        self.mlp = nn.Sequential(nn.LayerNorm(source.shape[1]), nn.Linear(source.shape[1], hidden), nn.GELU(),
                                 nn.Linear(hidden, base.shape[1]))
        nn.init.zeros_(self.mlp[-1].weight)  # starts as the frozen table
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.base[ids] + self.mlp(self.source[ids])

    @torch.no_grad()
    def table(self, batch_size: int = 8192) -> torch.Tensor:
        rows = [self.base[i:i + batch_size] + self.mlp(self.source[i:i + batch_size])
                for i in range(0, len(self.base), batch_size)]
        return torch.cat(rows)

    def materialise(self, pad_id: int) -> nn.Embedding:
        """The plain table this module computes, for saving and serving."""
        emb = nn.Embedding(len(self.base), self.base.shape[1], padding_idx=pad_id)
        with torch.no_grad():
            emb.weight.copy_(self.table())
        return emb.to(self.base.device)
