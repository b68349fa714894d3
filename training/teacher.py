"""Fine-tune a teacher: any AutoModelForSequenceClassification on the labelled data, best checkpoint kept."""
from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from models.labels import LABELS

from .batching import bucketed_batches
from .errors import TrainingError
from .hf import load_classifier, pad_batch, teacher_outputs
from .metrics import label_ids, macro_f1
from .trainlog import TrainLog


@dataclass(frozen=True)
class TeacherArgs:
    base: str
    epochs: float = 4.0
    lr: float = 6e-5
    batch_size: int = 32
    weight_decay: float = 0.01
    warmup: float = 0.1
    max_length: int = 64
    class_balance: float = 0.5   # class weights ~ (1/frequency)^class_balance; 0 = unweighted
    label_smoothing: float = 0.05
    evals_per_epoch: int = 3
    patience: int = 4            # evaluations without improvement before stopping early
    seed: int = 13
    device: str = "cpu"

    def __post_init__(self):
        checks = {"epochs": self.epochs > 0, "lr": 0 < self.lr < 1, "batch_size": self.batch_size >= 1,
                  "warmup": 0 <= self.warmup < 1, "max_length": 8 <= self.max_length <= 512,
                  "class_balance": 0 <= self.class_balance <= 1, "label_smoothing": 0 <= self.label_smoothing < 1,
                  "evals_per_epoch": self.evals_per_epoch >= 1, "patience": self.patience >= 1}
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise TrainingError(f"bad teacher arguments {', '.join(f'{k}={getattr(self, k)!r}' for k in bad)}: "
                                "expected epochs>0, 0<lr<1, batch_size>=1, 0<=warmup<1, 8<=max_length<=512, "
                                "0<=class_balance<=1, 0<=label_smoothing<1, evals_per_epoch>=1, patience>=1")


def class_weights(y: np.ndarray, power: float) -> torch.Tensor:
    counts = np.bincount(y, minlength=len(LABELS)).astype(float)
    w = (counts.sum() / (len(LABELS) * np.maximum(counts, 1))) ** power
    return torch.tensor(w / w.mean(), dtype=torch.float32)


def fine_tune(args: TeacherArgs, train, val, out: str | Path) -> dict:
    """Train on ``train`` (frame with text, label), select on ``val`` macro-F1, save to ``out`` (HF format)."""
    from transformers import get_linear_schedule_with_warmup

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model, tok, _ = load_classifier(args.base, fresh_head=True)
    model.to(args.device)
    enc = lambda texts: tok(list(texts), truncation=True, max_length=args.max_length)["input_ids"]
    x_tr, y_tr = enc(train["text"]), label_ids(train["label"])
    x_va, y_va = enc(val["text"]), label_ids(val["label"])
    steps_per_epoch = math.ceil(len(x_tr) / args.batch_size)
    total = max(1, int(steps_per_epoch * args.epochs))
    eval_every = max(1, steps_per_epoch // args.evals_per_epoch)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    sched = get_linear_schedule_with_warmup(opt, int(args.warmup * total), total)
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weights(y_tr, args.class_balance).to(args.device),
                                        label_smoothing=args.label_smoothing)
    log = TrainLog(out / "train_log.csv")
    best = {"val_macro_f1": -1.0}
    best_state, stale, step, running, t0 = None, 0, 0, None, time.time()
    bar = tqdm(total=total, desc="teacher", mininterval=10)
    while step < total and stale < args.patience:
        for idx in bucketed_batches([len(r) for r in x_tr], args.batch_size, rng):
            model.train()
            ids, mask = pad_batch([x_tr[i] for i in idx], tok.pad_token_id)
            logits = model(input_ids=ids.to(args.device), attention_mask=mask.to(args.device)).logits
            loss = loss_fn(logits, torch.as_tensor(y_tr[idx], device=args.device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            bar.update()
            running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
            if step % 20 == 0:
                log.log(step=step, epoch=step / steps_per_epoch, loss=running, lr=sched.get_last_lr()[0])
            if step % eval_every == 0 or step == total:
                logits_va, _ = teacher_outputs(model, x_va, tok.pad_token_id, list(range(len(LABELS))), 128, args.device)
                f1 = macro_f1(y_va, logits_va.argmax(1))
                log.log(step=step, epoch=step / steps_per_epoch, val_macro_f1=f1, elapsed_s=time.time() - t0)
                bar.set_postfix(val_f1=f"{f1:.4f}")
                if f1 > best["val_macro_f1"]:
                    best = {"val_macro_f1": f1, "step": step, "epoch": step / steps_per_epoch}
                    best_state, stale = copy.deepcopy(model.state_dict()), 0
                else:
                    stale += 1
            if step >= total or stale >= args.patience:
                break
    bar.close()
    model.load_state_dict(best_state)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    log.plot(out / "train_log.png")
    summary = {"args": asdict(args), "best": best, "steps": step, "train_rows": len(x_tr), "val_rows": len(x_va),
               "train_seconds": round(time.time() - t0, 1)}
    (out / "teacher_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
