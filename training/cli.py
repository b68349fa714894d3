"""``finsentry train-teacher | distill | evaluate | quantize``: flags in, one frozen argument object, work out."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from models.errors import ModelError

from .errors import TrainingError


def _data_flags(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--data", nargs="+", required=required, metavar="FILE", help="labelled CSV/JSONL/Parquet files")
    p.add_argument("--text-col", default="text")
    p.add_argument("--label-col", default="label")
    p.add_argument("--label-map", default=None, help="raw labels to names, e.g. 0=negative,1=neutral,2=positive")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--test-fraction", type=float, default=0.15, help="held out for evaluation, never trained on")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--train-seed", type=int, default=None,
                   help="seed of the model's initialisation, perturbed copies and batch order (default: --seed, which "
                        "also fixes the split); change it, not --seed, to train another run on the same split")
    p.add_argument("--device", default="cpu", help="cpu | cuda | auto")


def load_split(a, split_dir: Path):
    """Read, normalise and split the labelled data the same way for teacher and student; write the parts to
    ``split_dir`` (never into a model artifact: the split holds the data's text)."""
    from .data import load_labelled, parse_label_map, split

    data, report = load_labelled(a.data, a.text_col, a.label_col, parse_label_map(a.label_map))
    print(f"data: {report}; {len(data)} usable", file=sys.stderr)
    train, val, test = split(data, [a.val_fraction, a.test_fraction], a.seed)
    split_dir.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train), ("val", val), ("test", test)):
        part.to_csv(split_dir / f"{name}.csv", index=False)
    for source, part in test.groupby("source"):
        part.to_csv(split_dir / f"test_{source}.csv", index=False)
    print(f"split: train {len(train)}, val {len(val)}, test {len(test)} (written to {split_dir})", file=sys.stderr)
    return train, val, test


def _train_seed(a) -> int:
    return a.seed if a.train_seed is None else a.train_seed


def _device(name: str) -> str:
    from models.predictor import resolve_device

    return str(resolve_device(name))


def train_teacher(argv: list[str]) -> int:
    from models.pretrained import minilm_path

    from .teacher import TeacherArgs, fine_tune

    p = argparse.ArgumentParser(prog="finsentry train-teacher", description="Fine-tune a teacher classifier.")
    _data_flags(p)
    p.add_argument("--base", default=None, help="HF model name or directory (default: the packaged MiniLM-L6)")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--epochs", type=float, default=TeacherArgs.epochs)
    p.add_argument("--lr", type=float, default=TeacherArgs.lr)
    p.add_argument("--batch-size", type=int, default=TeacherArgs.batch_size)
    p.add_argument("--max-length", type=int, default=TeacherArgs.max_length)
    p.add_argument("--class-balance", type=float, default=TeacherArgs.class_balance)
    a = p.parse_args(argv)
    args = TeacherArgs(base=a.base or str(minilm_path()), epochs=a.epochs, lr=a.lr, batch_size=a.batch_size,
                       max_length=a.max_length, class_balance=a.class_balance,
                       seed=_train_seed(a), device=_device(a.device))
    train, val, _ = load_split(a, a.out / "split")
    summary = fine_tune(args, train, val, a.out)
    print(json.dumps(summary["best"]), file=sys.stderr)
    return 0


def distill(argv: list[str]) -> int:
    from .data import load_unlabelled
    from .distill import SELECT_ON, DistillArgs, distil
    from .losses import KD_LOSSES

    d = DistillArgs
    p = argparse.ArgumentParser(prog="finsentry distill", description="Distil a teacher into a small student.")
    _data_flags(p)
    p.add_argument("--teacher", required=True, nargs="+", metavar="DIR_OR_NAME",
                   help="teacher directory or HF model name (e.g. ProsusAI/finbert); several make an ensemble "
                        "whose mean logits are the targets (they must share one tokenizer; the first one's "
                        "embeddings start the student and its split is used)")
    p.add_argument("--teacher-label-map", default=None, help="teacher label names to ours, e.g. LABEL_0=negative,...")
    p.add_argument("--unlabeled", default=None, help="unlabelled transfer-set file (CSV/JSONL/Parquet)")
    p.add_argument("--unlabeled-text-col", default="text")
    p.add_argument("--transfer-limit", type=int, default=d.transfer_limit)
    p.add_argument("--student", default=d.student, help="bilstm | cnn | transformer")
    p.add_argument("--augment", type=int, default=d.augment,
                   help=f"teacher-labelled perturbed copies of each labelled text (default {d.augment})")
    p.add_argument("--augment-replace", default=d.augment_replace, choices=["corpus", "neighbours"],
                   help="what replaces a word in a perturbed copy: a random corpus word, or one of its nearest "
                        f"words in the teacher's embedding space (default {d.augment_replace})")
    p.add_argument("--augment-seed", type=int, default=None,
                   help="seed of the perturbed copies (default: the training seed); fix it to train another student "
                        "seed on copies the teachers have already labelled (--cache-dir)")
    p.add_argument("--out", required=True, type=Path)
    for name in ("alpha", "beta", "gamma", "temperature", "cos_target", "epochs", "lr"):
        p.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(d, name))
    p.add_argument("--kd-loss", default=d.kd_loss, choices=KD_LOSSES,
                   help="soft term: kl (T^2 KL of softened probabilities) or mse (squared distance of the centred "
                        f"logits, T unused); default {d.kd_loss}")
    p.add_argument("--feature-loss", default=d.feature_loss, help="mse | cosine | cosine_target")
    p.add_argument("--feature-level", default=d.feature_level, choices=["pooled", "token"],
                   help="what the feature loss matches: the pooled state of a text, or the state of every word piece "
                        f"(bilstm/transformer; the teacher's on its top --token-dim principal directions); default "
                        f"{d.feature_level}")
    p.add_argument("--embed-init", default=d.embed_init,
                   help="bilstm/cnn embedding start: input (teacher's input embeddings) | static (teacher's "
                        f"output for each word piece alone); default {d.embed_init}")
    for name in ("batch_size", "max_length", "embed_dim", "hidden", "token_dim"):
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(d, name))
    p.add_argument("--layers", default="0,5", help="teacher layers copied into the transformer student")
    p.add_argument("--embed-mode", default=d.embed_mode, choices=["frozen", "trained", "adapter"],
                   help="bilstm/cnn embedding: frozen at its --embed-init start, trained, or adapter (one MLP of the "
                        f"teacher's embedding for every piece, width --adapter-width); default {d.embed_mode}")
    p.add_argument("--adapter-width", type=int, default=d.adapter_width)
    p.add_argument("--dropout", type=float, default=d.dropout,
                   help=f"bilstm/cnn dropout on the embedded pieces and the pooled features; default {d.dropout}")
    p.add_argument("--select-on", default=d.select_on, choices=SELECT_ON,
                   help="keep the checkpoint with the best validation macro-F1 pooled over all texts, or averaged over "
                        f"the --data files (each file counts alike); default {d.select_on}")
    p.add_argument("--prune-vocab", action="store_true",
                   help="keep only the word pieces the training texts use (a smaller artifact; other pieces read as "
                        "[UNK])")
    p.add_argument("--ema", type=float, default=d.ema,
                   help="validate and keep an exponential moving average of the student's weights with this decay "
                        f"per step (e.g. 0.999); 0 keeps the raw weights; default {d.ema}")
    p.add_argument("--cache-dir", type=Path, default=None, help="reuse teacher outputs between runs")
    p.add_argument("--no-evaluate", action="store_true", help="skip the held-out evaluation and model card")
    p.add_argument("--split-dir", type=Path, default=None,
                   help="where the train/val/test split is written (default: TEACHER/split for a local teacher, "
                        "else runs/split); kept out of the artifact because it holds the data's text")
    a = p.parse_args(argv)
    args = DistillArgs(teacher=a.teacher[0], ensemble=tuple(a.teacher[1:]), teacher_label_map=a.teacher_label_map, student=a.student, alpha=a.alpha, beta=a.beta, gamma=a.gamma,
                       temperature=a.temperature, kd_loss=a.kd_loss, feature_loss=a.feature_loss,
                       feature_level=a.feature_level, token_dim=a.token_dim, cos_target=a.cos_target, epochs=a.epochs,
                       lr=a.lr, batch_size=a.batch_size, max_length=a.max_length, embed_dim=a.embed_dim,
                       hidden=a.hidden, layers=tuple(int(x) for x in a.layers.split(",")),
                       prune_vocab=a.prune_vocab, transfer_limit=a.transfer_limit if a.unlabeled else 0,
                       augment=a.augment, augment_replace=a.augment_replace, augment_seed=a.augment_seed, embed_init=a.embed_init,
                       embed_mode=a.embed_mode, adapter_width=a.adapter_width, dropout=a.dropout, ema=a.ema,
                       select_on=a.select_on, seed=_train_seed(a), device=_device(a.device))
    split_dir = a.split_dir or (Path(args.teacher) / "split" if Path(args.teacher).is_dir() else Path("runs/split"))
    train, val, test = load_split(a, split_dir)
    transfer = []
    if a.unlabeled and args.transfer_limit:
        transfer = load_unlabelled(a.unlabeled, a.unlabeled_text_col, args.transfer_limit,
                                   exclude=list(val["text"]) + list(test["text"]) + list(train["text"]))
        print(f"transfer set: {len(transfer)} distinct texts from {a.unlabeled}", file=sys.stderr)
    summary = distil(args, train, val, transfer, a.out, a.cache_dir)
    print(json.dumps({"version": summary["version"], **summary["best"]}), file=sys.stderr)
    if not a.no_evaluate:
        from .evaluate import evaluate_artifact

        evaluate_artifact(a.out, teachers=a.teacher, test_dir=split_dir, device=a.device)
    return 0


def evaluate(argv: list[str]) -> int:
    from models import Predictor

    from .data import parse_label_map
    from .evaluate import datasets_from_files, evaluate as run_evaluation, format_table

    p = argparse.ArgumentParser(prog="finsentry evaluate", description="Quality per dataset and speed, side by side.")
    p.add_argument("--model", required=True, help="student artifact (or any classifier directory)")
    p.add_argument("--teacher", default=None, nargs="+", metavar="DIR",
                   help="the teacher to compare with; several are scored as one ensemble (mean logits)")
    p.add_argument("--data", nargs="+", required=True, metavar="FILE")
    p.add_argument("--text-col", default="text")
    p.add_argument("--label-col", default="label")
    p.add_argument("--label-map", default=None)
    p.add_argument("--json", type=Path, default=None, help="write the full result here")
    p.add_argument("--png-dir", type=Path, default=None, help="confusion matrices as PNG (default: beside --json)")
    p.add_argument("--quantize", choices=["int8"], default=None, help="also evaluate the int8 quantised model")
    p.add_argument("--device", default="auto")
    a = p.parse_args(argv)
    datasets = datasets_from_files(a.data, a.text_col, a.label_col, parse_label_map(a.label_map))
    model = Predictor.load(a.model, device=a.device)
    teacher = Predictor.average([Predictor.load(t, device=a.device) for t in a.teacher]) if a.teacher else None
    extra = {"int8": Predictor.load(a.model, device="cpu", quantize="int8")} if a.quantize else None
    png_dir = a.png_dir or (a.json.parent if a.json else None)
    result = run_evaluation(model, datasets, teacher, png_dir, extra_models=extra)
    print(format_table(result))
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def quantize(argv: list[str]) -> int:
    from models.quantize import save_quantized

    p = argparse.ArgumentParser(prog="finsentry quantize", description="Mark a student for int8 dynamic quantisation.")
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path)
    a = p.parse_args(argv)
    print(save_quantized(a.model, a.out))
    return 0


def main(command: str, argv: list[str]) -> int:
    handlers = {"train-teacher": train_teacher, "distill": distill, "evaluate": evaluate, "quantize": quantize}
    try:
        return handlers[command](argv)
    except (TrainingError, ModelError) as exc:
        print(f"finsentry {command}: error: {exc}", file=sys.stderr)
        return 2
