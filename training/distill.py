"""Distil a teacher into a student: hard labels, softened teacher probabilities and teacher hidden states,
on the labelled data plus an unlabelled transfer set that only the teacher labels."""
from __future__ import annotations

import copy
import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from models.artifact import save_student
from models.student import ARCHITECTURES, BiLSTMConfig, CNNConfig, TransformerConfig, build_student
from models.tokenizer import build_id_map, kept_ids

from .augment import AugmentArgs, augment, embedding_neighbours
from .batching import bucketed_batches
from .data import parse_label_map
from .embedding import AdaptedEmbedding
from .errors import TrainingError
from .hf import load_classifier, pad_batch, teacher_outputs, teacher_token_states
from .losses import FEATURE_LOSSES, KD_LOSSES, FeatureProjection, distillation_loss
from .metrics import label_ids, source_mean_macro_f1
from .trainlog import TrainLog


EMBED_INITS = ("input", "static")
EMBED_MODES = ("frozen", "trained", "adapter")
SELECT_ON = ("pooled", "sources")
FEATURE_LEVELS = ("pooled", "token")


@dataclass(frozen=True)
class DistillArgs:
    teacher: str
    teacher_label_map: str | None = None  # e.g. "LABEL_0=negative,LABEL_1=neutral,LABEL_2=positive"
    ensemble: tuple[str, ...] = ()  # further teachers: targets are the mean of all teachers' logits
    student: str = "bilstm"
    alpha: float = 0.5          # hard-label cross-entropy
    beta: float = 0.5           # the soft term: T^2 * KL(teacher_T || student_T), or logit matching (kd_loss)
    kd_loss: str = "mse"        # "mse": centred logits' squared distance (no T; over two student seeds +2.2
                                # macro-F1 on FPB against "kl", benchmarks/RESULTS.md); "kl": softened probabilities
    gamma: float = 0.0          # feature loss
    temperature: float = 2.0
    feature_loss: str = "mse"
    feature_level: str = "pooled"  # "pooled": one state per text; "token": the state of every word piece
    token_dim: int = 128        # token level: the teacher's states on their top principal directions
    cos_target: float = 1.0
    epochs: float = 6.0
    lr: float = 2e-3
    batch_size: int = 64
    max_length: int = 64
    embed_dim: int = 128
    hidden: int = 64            # per direction: 2.7x faster than 128 at about the same quality (benchmarks/RESULTS.md)
    dropout: float = 0.25       # bilstm/cnn: on the embedded pieces and on the pooled features
    layers: tuple[int, ...] = (0, 5)   # teacher layers copied into the transformer student
    prune_vocab: bool = False   # keep only the pieces the training texts use: a smaller table, but every other
                                # piece reads as [UNK] (the whole vocabulary, frozen: +2.1 FPB macro-F1, RESULTS.md)
    transfer_limit: int = 100000  # the whole unlabelled stream (83k distinct texts) for the default model
    augment: int = 4            # teacher-labelled perturbed copies per labelled text (training.augment)
    augment_replace: str = "corpus"  # replaced words: random corpus words, or the teacher's "neighbours"
    augment_seed: int | None = None  # seed of the perturbed copies (None: ``seed``); keep it to rerun a recipe
                                     # with another student seed on the same, already labelled copies
    embed_init: str = "input"   # recurrent/CNN students: "input" (teacher's input embeddings) or "static"
    embed_mode: str = "frozen"  # recurrent/CNN students: "frozen" keeps the embedding at its teacher-derived start,
                                # so words the training texts never show stay in the space the student learned to
                                # read; "trained" trains the table; "adapter" learns one function for every row
                                # (frozen start + MLP over the teacher's full-width embedding, training.embedding)
    adapter_width: int = 256
    ema: float = 0.0            # > 0: validate and keep an exponential moving average of the student's weights
                                # (decay per step, e.g. 0.999; torch.optim.swa_utils); 0: the raw weights
    select_on: str = "pooled"   # checkpoint selection: validation macro-F1 "pooled" over all texts, or the mean of
                                # each source's ("sources", every training file counts alike)
    evals_per_epoch: int = 2
    patience: int = 4
    seed: int = 13
    device: str = "cpu"

    def __post_init__(self):
        problems = []
        if self.student not in ARCHITECTURES:
            problems.append(f"student={self.student!r} (expected one of {sorted(ARCHITECTURES)})")
        for name in ("alpha", "beta", "gamma"):
            if getattr(self, name) < 0:
                problems.append(f"{name}={getattr(self, name)} (expected >= 0)")
        if self.alpha + self.beta + self.gamma == 0:
            problems.append("alpha+beta+gamma=0 (expected at least one loss term)")
        if self.alpha == 0 and self.beta == 0:
            problems.append("alpha=beta=0 (a feature-only loss never trains the classifier head; keep alpha > 0)")
        if self.temperature <= 0:
            problems.append(f"temperature={self.temperature} (expected > 0)")
        if self.embed_init not in EMBED_INITS:
            problems.append(f"embed_init={self.embed_init!r} (expected one of {EMBED_INITS})")
        if self.kd_loss not in KD_LOSSES:
            problems.append(f"kd_loss={self.kd_loss!r} (expected one of {KD_LOSSES})")
        if self.feature_level not in FEATURE_LEVELS:
            problems.append(f"feature_level={self.feature_level!r} (expected one of {FEATURE_LEVELS})")
        elif self.feature_level == "token" and self.student == "cnn":
            problems.append("feature_level='token' with student='cnn' (expected bilstm or transformer: the CNN "
                            "has no state per word piece)")
        if self.embed_mode not in EMBED_MODES:
            problems.append(f"embed_mode={self.embed_mode!r} (expected one of {EMBED_MODES})")
        if self.adapter_width < 1:
            problems.append(f"adapter_width={self.adapter_width} (expected >= 1)")
        if not 0.0 <= self.dropout < 1.0:
            problems.append(f"dropout={self.dropout} (expected a probability in [0, 1))")
        if self.select_on not in SELECT_ON:
            problems.append(f"select_on={self.select_on!r} (expected one of {SELECT_ON})")
        if not 0.0 <= self.ema < 1.0:
            problems.append(f"ema={self.ema} (expected a decay in [0, 1), 0 for off)")
        if self.token_dim < 1:
            problems.append(f"token_dim={self.token_dim} (expected >= 1)")
        if self.feature_loss not in FEATURE_LOSSES:
            problems.append(f"feature_loss={self.feature_loss!r} (expected one of {FEATURE_LOSSES})")
        if self.epochs <= 0 or self.lr <= 0 or self.batch_size < 1 or self.transfer_limit < 0 or self.augment < 0:
            problems.append("epochs, lr and batch_size must be positive, transfer_limit and augment >= 0")
        if problems:
            raise TrainingError("bad distillation arguments: " + "; ".join(problems))


def _pca_init(weight: torch.Tensor, dim: int) -> torch.Tensor:
    """Project the teacher's word embeddings onto their top principal directions (rows keep their geometry)."""
    w = weight.float() - weight.float().mean(0, keepdim=True)
    if dim >= w.shape[1]:  # the full width: the centred table itself, scaled like a projection
        return w * (0.5 / w.std())
    _, _, v = torch.linalg.svd(w[: min(len(w), 20000)], full_matrices=False)
    out = w @ v[:dim].T
    return out * (0.5 / out.std())


@torch.inference_mode()
def static_embeddings(teacher, tok, vocab_rows: np.ndarray, device: str = "cpu", batch_size: int = 512) -> torch.Tensor:
    """The teacher's output state for each word piece on its own (``[CLS] piece [SEP]``): static vectors that
    carry what the fine-tuned teacher makes of each piece (as in Model2Vec), a richer start for a student's
    embedding than the teacher's input embeddings."""
    if tok.cls_token_id is None or tok.sep_token_id is None:
        raise TrainingError("embed_init='static' needs a teacher tokenizer with [CLS] and [SEP] tokens")
    teacher.eval().to(device)
    out = []
    for start in range(0, len(vocab_rows), batch_size):
        ids = torch.tensor([[tok.cls_token_id, int(r), tok.sep_token_id] for r in vocab_rows[start:start + batch_size]],
                           device=device)
        h = teacher.base_model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
        out.append(h[:, 1].float().cpu())
    return torch.cat(out)


def make_student(args: DistillArgs, teacher, vocab_rows: np.ndarray, num_labels: int, tok=None) -> torch.nn.Module:
    """Build the student with embeddings (and, for the transformer, layers) taken from the teacher."""
    emb = teacher.get_input_embeddings().weight.detach()[torch.as_tensor(vocab_rows)]
    if args.student == "transformer":
        if getattr(teacher.config, "model_type", None) != "bert":
            raise TrainingError(f"the transformer student copies BERT layers; teacher is {teacher.config.model_type!r}")
        bert_cfg = teacher.config.to_dict()
        keep = {k: bert_cfg[k] for k in ("hidden_size", "num_attention_heads", "intermediate_size", "hidden_act",
                                         "hidden_dropout_prob", "attention_probs_dropout_prob", "max_position_embeddings",
                                         "type_vocab_size", "layer_norm_eps", "pad_token_id")}
        keep.update(vocab_size=len(vocab_rows), num_hidden_layers=len(args.layers))
        student = build_student("transformer", asdict(TransformerConfig(bert=keep, num_labels=num_labels)))
        src = teacher.base_model
        sd = {k: v for k, v in src.embeddings.state_dict().items() if not k.startswith("word_embeddings")}
        student.bert.embeddings.load_state_dict({**sd, "word_embeddings.weight": emb}, strict=False)
        for new, old in enumerate(args.layers):
            student.bert.encoder.layer[new].load_state_dict(src.encoder.layer[old].state_dict())
        return student
    if args.embed_dim > emb.shape[1]:
        raise TrainingError(f"embed_dim={args.embed_dim} is wider than the teacher's embedding ({emb.shape[1]}); "
                            f"expected at most {emb.shape[1]} (the full width keeps the teacher's table itself)")
    cfg_cls = BiLSTMConfig if args.student == "bilstm" else CNNConfig
    extra = {"hidden": args.hidden} if args.student == "bilstm" else {}
    student = build_student(args.student, asdict(cfg_cls(vocab_size=len(vocab_rows), embed_dim=args.embed_dim,
                                                         num_labels=num_labels, dropout=args.dropout, **extra)))
    if args.embed_init == "static":
        emb = static_embeddings(teacher, tok, vocab_rows, args.device)
    start = _pca_init(emb, args.embed_dim)
    if args.embed_mode == "adapter":
        student.embed = AdaptedEmbedding(start, emb, args.adapter_width)
        return student
    if args.embed_mode == "frozen":  # rounded now, so it is stored in float16 without changing a prediction
        start = start.half().float()
    with torch.no_grad():
        student.embed.weight.copy_(start)
    student.embed.weight.requires_grad_(args.embed_mode != "frozen")
    return student


def half_tensors(args: DistillArgs) -> tuple[str, ...]:
    """What the artifact stores in float16: the frozen table, already rounded to it in ``make_student``."""
    return ("embed.weight",) if args.embed_mode == "frozen" and args.student != "transformer" else ()


def _cache_key(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def _cached(cache_dir: Path | None, prefix: str, key_parts: tuple, compute, fields: tuple[str, ...],
            required: tuple[str, ...]) -> dict:
    """``compute()``'s arrays (a tuple in the order of ``fields``) by name, kept in ``cache_dir`` as
    ``prefix-<key>.npz`` between runs; a cached file serves when it holds the ``required`` fields."""
    path = None if cache_dir is None else Path(cache_dir) / f"{prefix}-{_cache_key(*key_parts)}.npz"
    if path is not None and path.is_file():
        z = np.load(path)
        if all(f in z for f in required):
            return {f: z[f] for f in fields if f in z}
    out = dict(zip(fields, compute()))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **{k: v for k, v in out.items() if v is not None})
    return out


def teacher_targets(teacher, tok, order, id_lists, name: str, args: DistillArgs, cache_dir: Path | None,
                    want_feats: bool):
    """Teacher ``name``'s logits (and pooled hidden states) for every text, cached on disk between runs."""
    z = _cached(cache_dir, "teacher", (name, id_lists, order),
                lambda: teacher_outputs(teacher, id_lists, tok.pad_token_id, order, 64, args.device, features=True,
                                        progress="teacher labels"),
                ("logits", "feats"), ("logits", "feats") if want_feats else ("logits",))
    return z["logits"], z.get("feats")


def token_targets(teacher, tok, id_lists, name: str, args: DistillArgs, cache_dir: Path | None):
    """Teacher ``name``'s per-piece states for every text (training.hf.teacher_token_states), cached on disk."""
    z = _cached(cache_dir, "tokens", (name, id_lists, args.token_dim),
                lambda: teacher_token_states(teacher, id_lists, tok.pad_token_id, args.token_dim, 64, args.device,
                                             progress="teacher token states"),
                ("states", "offsets"), ("states", "offsets"))
    return z["states"], z["offsets"]


def _gather_tokens(states: np.ndarray, offsets: np.ndarray, idx, width: int) -> torch.Tensor:
    """The per-piece states of texts ``idx``, zero-padded to (len(idx), width, dim)."""
    out = np.zeros((len(idx), width, states.shape[1]), dtype=np.float32)
    for r, i in enumerate(idx):
        a, b = offsets[i], offsets[i + 1]
        out[r, : b - a] = states[a:b]
    return torch.from_numpy(out)


def load_teachers(args: DistillArgs):
    """The teacher and the ensemble's further members as (name, model, order); one tokenizer for all, as the
    student reads the same word pieces as every teacher."""
    label_map = parse_label_map(args.teacher_label_map)
    teacher, tok, order = load_classifier(args.teacher, label_map)
    members = [(args.teacher, teacher, order)]
    for name in args.ensemble:
        model, other_tok, other_order = load_classifier(name, label_map)
        if other_tok.get_vocab() != tok.get_vocab():
            raise TrainingError(f"ensemble teacher {name!r} has a different vocabulary from {args.teacher!r}; "
                                "expected teachers that share one tokenizer (e.g. fine-tunes of one base model)")
        members.append((name, model, other_order))
    return members, tok


def ensemble_targets(members, tok, id_lists, args: DistillArgs, cache_dir: Path | None, want_feats: bool):
    """Mean of the members' logits; pooled hidden states from the first teacher (its width sets the projection)."""
    outs = [teacher_targets(model, tok, order, id_lists, name, args, cache_dir, want_feats and k == 0)
            for k, (name, model, order) in enumerate(members)]
    return np.mean([o[0] for o in outs], axis=0).astype(np.float32), outs[0][1]


def distil(args: DistillArgs, train, val, transfer: list[str], out: str | Path, cache_dir: Path | None = None) -> dict:
    """Train a student and write its artifact to ``out``; returns a summary with the best validation score."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    members, tok = load_teachers(args)
    teacher, order = members[0][1], members[0][2]
    enc = lambda texts: tok(list(texts), truncation=True, max_length=args.max_length)["input_ids"]
    aug_args = AugmentArgs(copies=args.augment, replace_with=args.augment_replace)
    neighbours = None
    if args.augment and args.augment_replace == "neighbours":
        words = [w for t in train["text"] for w in t.split()]
        neighbours = embedding_neighbours(words, tok.get_vocab(), teacher.get_input_embeddings().weight.detach().numpy())
    copies = augment(list(train["text"]), aug_args, args.seed if args.augment_seed is None else args.augment_seed,
                     exclude=list(val["text"]), neighbours=neighbours)
    x_lab, x_tr, x_aug, x_va = (enc(t) if len(t) else [] for t in (train["text"], transfer, copies, val["text"]))
    x_all = x_lab + x_tr + x_aug
    y_all = np.concatenate([label_ids(train["label"]), np.full(len(x_tr) + len(x_aug), -1)])
    # Teacher outputs by block, so that the cached ones of the labelled and transfer texts serve runs with and
    # without augmentation.
    token_level = args.gamma > 0 and args.feature_level == "token"
    blocks = [ensemble_targets(members, tok, x, args, cache_dir, args.gamma > 0 and not token_level)
              for x in (x_lab + x_tr, x_aug) if x]
    t_logits = np.concatenate([b[0] for b in blocks])
    t_feats = None if any(b[1] is None for b in blocks) else np.concatenate([b[1] for b in blocks])
    if token_level:  # one principal basis for all texts, so one block (from the first teacher, as pooled feats)
        t_tokens, t_offsets = token_targets(teacher, tok, x_all, args.teacher, args, cache_dir)
    vocab_size = teacher.get_input_embeddings().weight.shape[0]
    unk = tok.unk_token_id if tok.unk_token_id is not None else 0
    rows = kept_ids(x_all, vocab_size, tok.pad_token_id or 0, unk) if args.prune_vocab else np.arange(vocab_size)
    id_map = build_id_map(rows, vocab_size, unk)
    student = make_student(args, teacher, rows, len(order), tok).to(args.device)
    for _, model, _ in members:
        model.to("cpu")
    if token_level:
        proj = FeatureProjection(student.token_dim, t_tokens.shape[1])
    else:
        proj = FeatureProjection(student.feature_dim, t_feats.shape[1] if t_feats is not None else student.feature_dim)
    proj.to(args.device)
    mapped = lambda ids_: torch.as_tensor(id_map)[ids_]
    params = [p for p in student.parameters() if p.requires_grad] + list(proj.parameters())
    lr = args.lr if args.student != "transformer" else min(args.lr, 1e-4)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    steps_per_epoch = math.ceil(len(x_all) / args.batch_size)
    total = max(1, int(steps_per_epoch * args.epochs))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=0.1, anneal_strategy="linear")
    y_va = label_ids(val["label"])
    s_va = val["source"].to_numpy() if args.select_on == "sources" and "source" in val else None
    log = TrainLog(out / "train_log.csv")
    # The averaged copy is what validation sees and what is saved; the raw weights keep training.
    ema = AveragedModel(student, multi_avg_fn=get_ema_multi_avg_fn(args.ema), use_buffers=True) if args.ema else None
    scored = (lambda: ema.module) if ema is not None else (lambda: student)
    best, best_state, stale, step, run, t0 = {"val_macro_f1": -1.0}, None, 0, 0, {}, time.time()
    eval_every = max(1, steps_per_epoch // args.evals_per_epoch)
    bar = tqdm(total=total, desc=f"distil {args.student}", mininterval=10)
    while step < total and stale < args.patience:
        for idx in bucketed_batches([len(r) for r in x_all], args.batch_size, rng):
            student.train()
            ids, mask = pad_batch([x_all[i] for i in idx], tok.pad_token_id or 0)
            fmask = None
            if token_level:
                logits, _, feats = student(mapped(ids).to(args.device), mask.to(args.device), return_tokens=True)
                th, fmask = _gather_tokens(t_tokens, t_offsets, idx, ids.shape[1]).to(args.device), mask.to(args.device)
            else:
                logits, feats = student(mapped(ids).to(args.device), mask.to(args.device))
                th = None if t_feats is None else torch.as_tensor(t_feats[idx], dtype=torch.float32, device=args.device)
            loss, parts = distillation_loss(
                logits, torch.as_tensor(t_logits[idx], device=args.device), torch.as_tensor(y_all[idx], device=args.device),
                torch.as_tensor(y_all[idx] >= 0, device=args.device), feats, th, proj, args.alpha, args.beta, args.gamma,
                args.temperature, args.feature_loss, args.cos_target, fmask, args.kd_loss)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
            sched.step()
            if ema is not None:
                ema.update_parameters(student)
            step += 1
            bar.update()
            for k, v in {"loss": loss.item(), **parts}.items():
                run[k] = v if k not in run else 0.98 * run[k] + 0.02 * v
            if step % 50 == 0:
                log.log(step=step, epoch=step / steps_per_epoch, **run)
            if step % eval_every == 0 or step == total:
                pred = _student_logits(scored(), x_va, id_map, tok.pad_token_id or 0, args.device).argmax(1)
                f1 = source_mean_macro_f1(y_va, pred, s_va)  # the pooled macro-F1 unless select_on="sources"
                log.log(step=step, epoch=step / steps_per_epoch, val_macro_f1=f1, elapsed_s=time.time() - t0)
                bar.set_postfix(val_f1=f"{f1:.4f}")
                if f1 > best["val_macro_f1"]:
                    best, best_state, stale = {"val_macro_f1": f1, "step": step, "epoch": step / steps_per_epoch}, \
                        copy.deepcopy(scored().state_dict()), 0
                else:
                    stale += 1
            if step >= total or stale >= args.patience:
                break
    bar.close()
    student.load_state_dict(best_state)
    if isinstance(getattr(student, "embed", None), AdaptedEmbedding):
        student.embed = student.embed.materialise(tok.pad_token_id or 0)
    student.eval()
    tok_file = out / "tokenizer.json"
    tok.backend_tokenizer.save(str(tok_file))
    summary = {"args": {**asdict(args), "layers": list(args.layers)}, "best": best, "steps": step,
               "labelled_rows": len(x_lab), "transfer_rows": len(transfer), "augmented_rows": len(copies),
               "vocab_kept": len(rows),
               "train_seconds": round(time.time() - t0, 1)}
    version = save_student(out, student.cpu(), args.student, tok_file, args.max_length,
                           id_map=id_map if args.prune_vocab else None, half=half_tensors(args),
                           extra={"teacher": str(args.teacher), "ensemble": list(args.ensemble),
                                  "distillation": summary["args"]})
    summary["version"] = version
    log.plot(out / "train_log.png")
    (out / "distill_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


@torch.inference_mode()
def _student_logits(student, id_lists, id_map, pad_id, device, batch_size: int = 256) -> np.ndarray:
    student.eval()
    out = None
    for idx in bucketed_batches([len(r) for r in id_lists], batch_size, np.random.default_rng(0), shuffle=False):
        ids, mask = pad_batch([id_lists[i] for i in idx], pad_id)
        logits, _ = student(torch.as_tensor(id_map)[ids].to(device), mask.to(device))
        if out is None:
            out = np.zeros((len(id_lists), logits.shape[1]), dtype=np.float32)
        out[idx] = logits.float().cpu().numpy()
    return out
