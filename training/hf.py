"""Loading any Hugging Face sequence classifier (a local directory or a hub name) as a teacher."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from models.labels import LABELS, id2label_order

from .batching import bucketed_batches


def load_classifier(name_or_path: str | Path, label_map: dict | None = None, fresh_head: bool = False):
    """(model, tokenizer, order): ``order[k]`` is the model output holding LABELS[k].

    ``fresh_head`` starts a new 3-way head (for fine-tuning an encoder such as the packaged MiniLM)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    name = str(name_or_path)
    tok = AutoTokenizer.from_pretrained(name)
    if fresh_head:
        model = AutoModelForSequenceClassification.from_pretrained(
            name, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id={n: i for i, n in enumerate(LABELS)},
            ignore_mismatched_sizes=True)
        order = list(range(len(LABELS)))
    else:
        model = AutoModelForSequenceClassification.from_pretrained(name)
        order = id2label_order(model.config.id2label, label_map)
    return model, tok, order


def pad_batch(rows, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.as_tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


@torch.inference_mode()
def teacher_outputs(model, id_lists, pad_id: int, order, batch_size: int = 64, device="cpu",
                    features: bool = False, progress: str | None = None):
    """Logits in LABELS order (n, 3) and, if asked, the mean-pooled last hidden state (n, d) as float16."""
    from tqdm import tqdm

    model.eval().to(device)
    n = len(id_lists)
    logits = np.zeros((n, len(LABELS)), dtype=np.float32)
    feats = None
    batches = bucketed_batches([len(r) for r in id_lists], batch_size, np.random.default_rng(0), shuffle=False)
    for idx in tqdm(batches, desc=progress, disable=progress is None, mininterval=5):
        ids, mask = pad_batch([id_lists[i] for i in idx], pad_id)
        out = model(input_ids=ids.to(device), attention_mask=mask.to(device), output_hidden_states=features)
        logits[idx] = out.logits[:, order].float().cpu().numpy()
        if features:
            h = out.hidden_states[-1]
            m = mask.to(device).unsqueeze(-1).to(h.dtype)
            pooled = ((h * m).sum(1) / m.sum(1)).float().cpu().numpy()
            if feats is None:
                feats = np.zeros((n, pooled.shape[1]), dtype=np.float16)
            feats[idx] = pooled
    return logits, feats


@torch.inference_mode()
def teacher_token_states(model, id_lists, pad_id: int, dim: int = 128, batch_size: int = 64, device="cpu",
                         sample: int = 2048, progress: str | None = None):
    """The teacher's last hidden state of every word piece, for token-level feature distillation.

    States are projected onto their top ``dim`` principal directions (fitted on ``sample`` random texts; all
    directions when ``dim`` is at least the teacher's width) and scaled to unit variance, so a transfer set of
    100k+ texts fits in memory as float16. Returns ``(states, offsets)``: text ``i``'s pieces are rows
    ``offsets[i]:offsets[i + 1]`` of ``states`` (shape ``(total pieces, dim)``), in the order of ``id_lists``."""
    from tqdm import tqdm

    model.eval().to(device)
    encoder = model.base_model
    lengths = np.array([len(r) for r in id_lists], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])

    def states(idx):
        ids, mask = pad_batch([id_lists[i] for i in idx], pad_id)
        h = encoder(input_ids=ids.to(device), attention_mask=mask.to(device)).last_hidden_state.float().cpu()
        return [h[r, : lengths[i]] for r, i in enumerate(idx)]

    rng = np.random.default_rng(0)
    fit = rng.choice(len(id_lists), size=min(sample, len(id_lists)), replace=False)
    h = torch.cat([s for start in range(0, len(fit), batch_size) for s in states(fit[start:start + batch_size])])
    mean = h.mean(0)
    if dim >= h.shape[1]:
        basis = torch.eye(h.shape[1])
    else:
        basis = torch.linalg.svd(h - mean, full_matrices=False)[2][:dim].T
    scale = ((h - mean) @ basis).std().clamp(min=1e-6)
    out = np.zeros((int(offsets[-1]), basis.shape[1]), dtype=np.float16)
    batches = bucketed_batches(lengths.tolist(), batch_size, np.random.default_rng(0), shuffle=False)
    for idx in tqdm(batches, desc=progress, disable=progress is None, mininterval=5):
        for i, s in zip(idx, states(idx)):
            out[offsets[i]:offsets[i + 1]] = (((s - mean) @ basis) / scale).numpy()
    return out, offsets
