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
