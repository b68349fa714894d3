"""MODEL_CARD.md for a student artifact: data and licences, recipe, held-out metrics, speed, use and limits."""
from __future__ import annotations

import json
from pathlib import Path

from .metrics import format_difference

DATA_NOTES = {
    "fpb_train": "Financial PhraseBank v1.0 (Malo et al., 2014), sentences from English financial news, "
                 "5-8 annotators per sentence. Licence CC BY-NC-SA 3.0 (non-commercial, attribution, share-alike).",
    "fin_tweets": "Financial tweets with sentiment (TimKoornstra collection, partial). Licence MIT.",
    "tfns_train": "Twitter Financial News Sentiment (zeroshot), train split; Bearish/Bullish/Neutral mapped to "
                  "negative/positive/neutral. Licence MIT.",
    "news_stream": "Unlabelled finance tweets (StockNet, 87 tickers, 2014-2016), used only as the distillation "
                   "transfer set, labelled by the teacher. Licence MIT (tweet text also under the platform's terms).",
}


def _feature_target(args: dict) -> str:
    if args.get("feature_level", "pooled") == "token":
        return f"every word piece's hidden state (the teacher's on its top {args.get('token_dim')} principal directions)"
    return "pooled hidden states"


def _embedding(args: dict, train: dict) -> str:
    if args.get("student") == "transformer":
        return f"vocabulary of {train['vocab_kept']} word pieces"
    start = {"input": "the teacher's input embeddings", "static": "the teacher's output for each piece alone"}.get(
        args.get("embed_init", "input"), args.get("embed_init"))
    mode = args.get("embed_mode", "trained")
    how = ("frozen (stored as float16)" if mode == "frozen" else
           f"its frozen start plus one learned MLP (width {args.get('adapter_width')}) of the teacher's embedding, the "
           "same for every piece" if mode == "adapter" else "trained")
    vocab = (f"vocabulary pruned to {train['vocab_kept']} word pieces" if args.get("prune_vocab", True) else
             f"the teacher's whole vocabulary ({train['vocab_kept']} word pieces)")
    return f"{vocab}; embedding from {start} ({args.get('embed_dim')} wide: its top principal directions, or the " \
           f"whole table centred when the teacher's is as wide), {how}"


def _soft_term(args: dict) -> str:
    if args.get("kd_loss", "kl") == "mse":
        return "squared distance of the centred logits (student to teacher)"
    return f"T^2 * KL(teacher_T || student_T) (T = {args['temperature']})"


def _weights(args: dict) -> str:
    ema = args.get("ema", 0.0)
    return f"weights: exponential moving average (decay {ema} per step) of the trained ones; " if ema else ""


def write_model_card(model_dir: Path, metrics: dict) -> None:
    config = json.loads((model_dir / "config.json").read_text())
    train = metrics["training"]
    args = train["args"]
    held = metrics["held_out"]
    sources = sorted({name.removesuffix("_allagree") for name in held["datasets"]})
    rows = "\n".join(
        f"| {name} | {e['n']} | {e['accuracy']:.4f} | {e['macro_f1']:.4f} | {e['ece']:.3f} | "
        f"{e.get('teacher', {}).get('macro_f1', float('nan')):.4f} | {e.get('agreement_with_teacher', float('nan')):.3f} |"
        for name, e in held["datasets"].items())
    compared = [k for k in ("teacher", *held.get("teachers", {})) if any(
        k in e.get("macro_f1_diff", {}) for e in held["datasets"].values())]
    diff_table = ""
    if compared:
        names = {"teacher": "the teacher" if len(compared) == 1 else "the ensemble"}
        diff_rows = "\n".join(f"| {name} | " + " | ".join(
            format_difference(e["macro_f1_diff"][k]) if k in e.get("macro_f1_diff", {}) else "" for k in compared) + " |"
            for name, e in held["datasets"].items())
        diff_table = ("\n\nStudent minus teacher, macro-F1, with a 95% paired bootstrap interval (the same texts resampled "
                      "for both; an interval that contains 0 means this held-out set cannot tell them apart):\n\n"
                      "| dataset | " + " | ".join(names.get(k, k) for k in compared) + " |\n|---|" + "---|" * len(compared)
                      + "\n" + diff_rows)
    speed = held["speed"]
    speed_rows = "\n".join(f"| {name} | {s['texts_per_s_batch64']} | {s['latency_ms_batch1_p50']} |"
                           for name, s in speed.items() if isinstance(s, dict))
    data = "\n".join(f"- `{s}`: {DATA_NOTES.get(s, 'user-supplied data')}" for s in sources)
    teachers = [args["teacher"], *args.get("ensemble", [])]
    source = (f"the teacher `{teachers[0]}`" if len(teachers) == 1 else
              f"an ensemble of {len(teachers)} teachers (mean of their logits: " + ", ".join(f"`{t}`" for t in teachers) + ")")
    members = held.get("teachers", {})
    if members:
        member_rows = "\n".join(f"| {key} (`{path}`) | " + " | ".join(
            f"{held['datasets'][d][key]['macro_f1']:.4f}" for d in held["datasets"]) + " |" for key, path in members.items())
        members_table = ("\n\nEach member of the teacher ensemble on its own (macro-F1):\n\n| teacher | "
                         + " | ".join(held["datasets"]) + " |\n|---|" + "---|" * len(held["datasets"]) + "\n" + member_rows)
    else:
        members_table = ""
    if train.get("transfer_rows"):
        data += f"\n- transfer set ({train['transfer_rows']} texts): {DATA_NOTES['news_stream']}"
    if train.get("augmented_rows"):
        data += (f"\n- {train['augmented_rows']} perturbed copies of the labelled training texts (words masked, "
                 "replaced or cut away), labelled by the teacher only")
    selection = " (the mean of each data file's)" if args.get("select_on") == "sources" else ""
    card = f"""# finsentry student `{config['version']}`

A {config['architecture']} sentiment classifier for financial news and posts (labels: {', '.join(config['labels'])};
signed score = P(positive) - P(negative)), distilled from {source}.

## Data and licences
Trained on the train part of a stratified, de-duplicated split (seed {args['seed']}); figures below are on the held-out
test part, never seen in training or model selection.
{data}

Because Financial PhraseBank is CC BY-NC-SA 3.0, a model trained on it inherits its non-commercial terms: retrain
on data you may use commercially before commercial use.

## Recipe
Loss = {args['alpha']} * CE(hard labels) + {args['beta']} * {_soft_term(args)}
+ {args['gamma']} * {args['feature_loss']} feature loss on {_feature_target(args)} (learned projection).
Labelled rows: {train['labelled_rows']}; teacher-labelled only: {train['transfer_rows']} transfer texts and
{train.get('augmented_rows', 0)} perturbed copies of labelled texts.
{args['epochs']} epochs max, lr {args['lr']}, batch {args['batch_size']}, max length {config['max_length']} word pieces,
{_embedding(args, train)}; {_weights(args)}early stopping on validation macro-F1{selection}
(best {metrics['validation']['val_macro_f1']:.4f} at epoch {metrics['validation']['epoch']:.2f}).
Student seed {args['seed']}; training took {train['train_seconds']} s. Full arguments: `config.json` -> `distillation`.

## Held-out quality
| dataset | n | accuracy | macro-F1 | ECE | teacher macro-F1 | agreement with teacher |
|---|---|---|---|---|---|---|
{rows}{members_table}{diff_table}

## Speed ({speed['threads']} CPU threads, tokenisation included, median of 3)
| model | texts/s at batch 64 | batch-1 latency p50 (ms) |
|---|---|---|
{speed_rows}

## Intended use and limits
Scoring short English financial headlines, news sentences and posts for a streaming monitor, as one signal among
others. Not investment advice. Trained on 2010s English news sentences and tweets: expect lower quality on long
articles (only the first {config['max_length']} word pieces are read), other languages, sarcasm, and events or
jargon newer than the data. Neutral dominates the data; check per-class recall before relying on rare classes.
These figures are one training run's. On held-out sets of this size, runs of the same recipe with other student
seeds can differ by a few points; the intervals above show how much of a difference the test data alone can resolve.
"""
    (model_dir / "MODEL_CARD.md").write_text(card)
