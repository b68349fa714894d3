"""Turn texts into padded word-piece id tensors with the teacher's fast tokenizer.

Students reuse the teacher's WordPiece vocabulary. A student may prune that vocabulary to the pieces its
training corpus used: ``id_map`` then sends each teacher id to a row of the student's smaller embedding
(pieces never seen map to [UNK]).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from tokenizers import Tokenizer

from .errors import ModelError


class Encoder:
    def __init__(self, tokenizer: Tokenizer, max_length: int, id_map: np.ndarray | None = None):
        if max_length < 2:
            raise ModelError(f"max_length must be at least 2, got {max_length}")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.id_map = None if id_map is None else np.asarray(id_map, dtype=np.int64)
        pad_id = tokenizer.token_to_id("[PAD]")
        self.pad_id = 0 if pad_id is None else pad_id
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length)

    @classmethod
    def from_file(cls, path: str | Path, max_length: int, id_map: np.ndarray | None = None) -> "Encoder":
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"expected a tokenizer file at {path}, found none")
        return cls(Tokenizer.from_file(str(path)), max_length, id_map)

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Unpadded, truncated teacher ids (with [CLS]/[SEP]) for each text."""
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def pad(self, id_lists: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Pad to the longest in the batch and apply the vocabulary map: (input_ids, attention_mask)."""
        width = max(1, max(len(x) for x in id_lists))
        # filled in numpy: one small tensor per row costs more than the model's embedding lookup
        ids = np.full((len(id_lists), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(id_lists), width), dtype=np.int64)
        for i, row in enumerate(id_lists):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        if self.id_map is not None:
            ids = self.id_map[ids]
        return torch.from_numpy(ids), torch.from_numpy(mask)

    def __call__(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.pad(self.ids(texts))


def kept_ids(id_lists: Sequence[Sequence[int]], vocab_size: int, pad_id: int = 0, unk_id: int = 100) -> np.ndarray:
    """The sorted teacher ids a pruned vocabulary keeps: every piece that occurs, plus [PAD] and [UNK]."""
    used = np.zeros(vocab_size, dtype=bool)
    for row in id_lists:
        used[np.asarray(row, dtype=np.int64)] = True
    used[[pad_id, unk_id]] = True
    return np.flatnonzero(used)


def build_id_map(kept: np.ndarray, vocab_size: int, unk_id: int = 100) -> np.ndarray:
    """Send kept teacher id ``kept[k]`` to student id k and every other teacher id to the student id of [UNK]."""
    id_map = np.full(vocab_size, int(np.searchsorted(kept, unk_id)), dtype=np.int64)
    id_map[kept] = np.arange(len(kept))
    return id_map
