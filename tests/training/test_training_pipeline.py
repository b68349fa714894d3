"""The whole pipeline on tiny random models and a few rows: teacher -> distil -> artifact -> evaluate."""
import json

import numpy as np
import pytest
import torch

from finsentry_cli import main as cli
from models import Predictor
from models.pretrained import minilm_path
from training.data import load_labelled
from training.distill import DistillArgs
from training.errors import TrainingError
from training.teacher import TeacherArgs, fine_tune


def test_teacher_fine_tune_saves_best_checkpoint(tmp_path, tiny_data, tiny_bert):
    data, _ = load_labelled([tiny_data])
    summary = fine_tune(TeacherArgs(base=str(tiny_bert), epochs=1, batch_size=8, evals_per_epoch=2), data, data,
                        tmp_path / "t")
    assert 0 <= summary["best"]["val_macro_f1"] <= 1 and summary["steps"] >= 1
    for name in ("config.json", "model.safetensors", "tokenizer.json", "train_log.csv", "train_log.png"):
        assert (tmp_path / "t" / name).is_file(), name
    teacher = Predictor.load(tmp_path / "t")
    assert teacher.kind == "teacher" and len(teacher.predict(["Profit up"])) == 1


def test_one_real_training_step_from_packaged_minilm(tiny_data):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(minilm_path()))
    model = AutoModelForSequenceClassification.from_pretrained(str(minilm_path()), num_labels=3)
    batch = tok(["Profit rose sharply", "Shares plunge", "Meeting on Monday"], padding=True, return_tensors="pt")
    labels = torch.tensor([2, 0, 1])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    before = model(**batch, labels=labels).loss.item()
    for _ in range(3):
        loss = model(**batch, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model(**batch, labels=labels).loss.item() < before


@pytest.mark.parametrize("student, extra", [
    ("bilstm", ["--gamma", "0.5", "--feature-loss", "cosine_target", "--embed-init", "static", "--augment", "0",
                "--embed-mode", "trained", "--prune-vocab"]),
    ("cnn", ["--augment", "2", "--augment-replace", "neighbours", "--select-on", "sources"]),
    ("bilstm", ["--gamma", "1", "--feature-level", "token", "--token-dim", "8"]),
    ("bilstm", ["--embed-mode", "adapter", "--adapter-width", "16", "--augment", "1", "--prune-vocab"]),
    ("transformer", ["--layers", "0,1", "--alpha", "0", "--beta", "1", "--prune-vocab"]),
    ("transformer", ["--layers", "0", "--gamma", "0.5", "--feature-level", "token", "--feature-loss", "cosine_target"]),
])
def test_distil_cli_writes_a_loadable_evaluated_artifact(tmp_path, tiny_data, tiny_bert, student, extra):
    unlabeled = tmp_path / "news.csv"
    unlabeled.write_text("ts,headline\n2020-01-01,Stocks rally on rate cut hopes\n2020-01-02,Oil slides as demand fears grow\n")
    out = tmp_path / "student"
    rc = cli(["distill", "--teacher", str(tiny_bert), "--data", str(tiny_data), "--unlabeled", str(unlabeled),
              "--unlabeled-text-col", "headline", "--student", student, "--out", str(out), "--epochs", "1",
              "--batch-size", "8", "--embed-dim", "16", "--hidden", "16", *extra])
    assert rc == 0
    config = json.loads((out / "config.json").read_text())
    pruned = "--prune-vocab" in extra
    assert config["architecture"] == student and config["vocab_pruned"] == pruned and config["teacher"] == str(tiny_bert)
    summary = json.loads((out / "distill_summary.json").read_text())
    assert summary["transfer_rows"] == 2 and (summary["vocab_kept"] < 30522) == pruned
    copies = int(extra[extra.index("--augment") + 1]) if "--augment" in extra else DistillArgs.augment
    assert (summary["augmented_rows"] > 0) == (copies > 0)
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["held_out"]["datasets"]) == {"tiny"}
    assert "model" in metrics["held_out"]["speed"] and "teacher" in metrics["held_out"]["speed"]
    card = (out / "MODEL_CARD.md").read_text()
    assert config["version"] in card and "Intended use and limits" in card
    assert f"Student seed {config['distillation']['seed']};" in card
    assert config["distillation"]["select_on"] == ("sources" if "--select-on" in extra else "pooled")
    assert ("(the mean of each data file's)" in card) == ("--select-on" in extra)
    recipe = card[card.index("## Recipe"):]
    mode = extra[extra.index("--embed-mode") + 1] if "--embed-mode" in extra else DistillArgs.embed_mode
    how = {"frozen": "), frozen", "adapter": "), its frozen start plus one learned MLP", "trained": "), trained"}[mode]
    assert student == "transformer" or how in recipe
    assert ("every word piece's hidden state" in recipe) == ("token" in extra)
    p = Predictor.load(out)
    first = p.predict_proba(["Profit rose sharply", "Shares plunge"])
    np.testing.assert_allclose(Predictor.load(out).predict_proba(["Profit rose sharply", "Shares plunge"]), first)


def test_evaluate_cli_json_shape(tmp_path, tiny_data, tiny_bert):
    from models.testing import make_tiny_artifact

    model = make_tiny_artifact(tmp_path / "m")
    out = tmp_path / "eval" / "result.json"
    assert cli(["evaluate", "--model", str(model), "--teacher", str(tiny_bert), "--data", str(tiny_data),
                "--json", str(out), "--quantize", "int8"]) == 0
    result = json.loads(out.read_text())
    entry = result["datasets"]["tiny"]
    assert entry["n"] == 45 and 0 <= entry["accuracy"] <= 1 and 0 <= entry["macro_f1"] <= 1
    assert set(entry["per_class"]) == {"negative", "neutral", "positive"} and len(entry["confusion"]) == 3
    assert 0 <= entry["agreement_with_teacher"] <= 1 and "ece" in entry and "int8" in entry
    for other in ("teacher", "int8"):  # this model minus each other one, on the same texts
        d = entry["macro_f1_diff"][other]
        assert d["diff"] == pytest.approx(entry["macro_f1"] - entry[other]["macro_f1"])
        assert d["ci"][0] <= d["diff"] <= d["ci"][1] and d["confidence"] == 0.95
    assert {"model", "teacher", "int8"} <= set(result["speed"]) and result["speed"]["model"]["texts_per_s_batch64"] > 0
    assert (out.parent / "confusion_tiny.png").is_file()


def test_bad_arguments_are_rejected_with_names(tmp_path, capsys):
    with pytest.raises(TrainingError, match="alpha=beta=0"):
        DistillArgs(teacher="t", alpha=0, beta=0, gamma=1)
    with pytest.raises(TrainingError, match="student='gru'"):
        DistillArgs(teacher="t", student="gru")
    with pytest.raises(TrainingError, match="lr=2.0"):
        TeacherArgs(base="b", lr=2.0)
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence,label\nhello,positive\n")
    assert cli(["train-teacher", "--data", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "missing column(s) ['text']" in capsys.readouterr().err


def test_ensemble_targets_are_the_mean_of_each_teachers_logits(tiny_bert, tiny_bert2):
    from training.distill import ensemble_targets, load_teachers, teacher_targets

    args = DistillArgs(teacher=str(tiny_bert), ensemble=(str(tiny_bert2),))
    members, tok = load_teachers(args)
    ids = tok(["Profit rose sharply", "Shares plunge after warning", "AGM on Monday"])["input_ids"]
    singles = [teacher_targets(m, tok, order, ids, name, args, None, False)[0] for name, m, order in members]
    assert not np.allclose(singles[0], singles[1])  # two different teachers, so the mean is not either one
    logits, feats = ensemble_targets(members, tok, ids, args, None, True)
    np.testing.assert_allclose(logits, (singles[0] + singles[1]) / 2, rtol=1e-5, atol=1e-6)
    assert feats.shape == (3, 32)  # pooled states of the first teacher


def test_ensemble_teachers_must_share_a_vocabulary(tmp_path, tiny_bert):
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    from training.distill import load_teachers

    other = tmp_path / "other"
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "profit", "rose"]) + "\n")
    BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(other)
    BertForSequenceClassification(BertConfig(vocab_size=7, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                             intermediate_size=32, num_labels=3)).save_pretrained(other)
    with pytest.raises(TrainingError, match="different vocabulary"):
        load_teachers(DistillArgs(teacher=str(tiny_bert), ensemble=(str(other),), teacher_label_map=(
            "LABEL_0=negative,LABEL_1=neutral,LABEL_2=positive")))


def test_distil_cli_with_two_teachers_records_and_evaluates_the_ensemble(tmp_path, tiny_data, tiny_bert, tiny_bert2):
    out = tmp_path / "student"
    assert cli(["distill", "--teacher", str(tiny_bert), str(tiny_bert2), "--data", str(tiny_data), "--out", str(out),
                "--epochs", "1", "--batch-size", "8", "--embed-dim", "16", "--hidden", "16", "--augment", "0"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["teacher"] == str(tiny_bert) and config["ensemble"] == [str(tiny_bert2)]
    held = json.loads((out / "metrics.json").read_text())["held_out"]
    assert held["teachers"] == {"teacher_0": str(tiny_bert), "teacher_1": str(tiny_bert2)}
    entry = held["datasets"]["tiny"]
    assert {"teacher", "teacher_0", "teacher_1"} <= set(entry)
    assert held["speed"]["throughput_ratio_vs_fastest_single_teacher"] > 0
    card = (out / "MODEL_CARD.md").read_text()
    assert "an ensemble of 2 teachers" in card and "Each member of the teacher ensemble" in card
    assert set(entry["macro_f1_diff"]) == {"teacher", "teacher_0", "teacher_1"}
    d = entry["macro_f1_diff"]["teacher_1"]
    assert "| dataset | the ensemble | teacher_0 | teacher_1 |" in card
    assert f"{d['diff']:+.4f} [{d['ci'][0]:+.4f}, {d['ci'][1]:+.4f}]" in card


def test_teacher_token_states_keep_every_piece_in_order_and_its_geometry(tiny_bert):
    from training.distill import _gather_tokens
    from training.hf import load_classifier, teacher_token_states

    model, tok, _ = load_classifier(tiny_bert)
    ids = tok(["Profit rose sharply", "Shares plunge after the profit warning", "AGM"])["input_ids"]
    states, offsets = teacher_token_states(model, ids, tok.pad_token_id, dim=64)  # >= width 32: all directions
    assert offsets.tolist() == [0, *np.cumsum([len(r) for r in ids]).tolist()] and states.shape == (offsets[-1], 32)
    with torch.no_grad():  # the text on its own, unpadded: same states up to the shared affine map
        h = model.base_model(input_ids=torch.tensor([ids[1]])).last_hidden_state[0].numpy()
    got = states[offsets[1]:offsets[2]].astype(np.float32)
    d_h = np.linalg.norm(h[:, None] - h[None], axis=-1)
    d_s = np.linalg.norm(got[:, None] - got[None], axis=-1)
    ratio = d_h[d_h > 0] / d_s[d_h > 0]
    np.testing.assert_allclose(ratio, ratio.mean(), rtol=5e-3)  # distances kept, one scale for all pieces
    small, _ = teacher_token_states(model, ids, tok.pad_token_id, dim=4)
    assert small.shape == (offsets[-1], 4) and abs(float(small.astype(np.float32).std()) - 1.0) < 0.35
    batch = _gather_tokens(states, offsets, [2, 0], width=len(ids[1]))
    assert batch.shape == (2, len(ids[1]), 32)
    np.testing.assert_allclose(batch[1, : len(ids[0])].numpy(), states[: len(ids[0])].astype(np.float32))
    assert batch[0, len(ids[2]):].abs().sum() == 0  # zero past a text's end


@pytest.mark.parametrize("mode", ["frozen", "trained"])
def test_frozen_embedding_stays_at_its_teacher_start(tmp_path, tiny_data, tiny_bert, mode):
    from models.artifact import load_student
    from training.distill import _pca_init, distil
    from training.hf import load_classifier

    frame, _ = load_labelled([tiny_data])
    args = DistillArgs(teacher=str(tiny_bert), epochs=1, batch_size=8, embed_dim=16, hidden=8, augment=0,
                       embed_mode=mode, prune_vocab=True, gamma=0.5, feature_level="token", token_dim=8)
    distil(args, frame, frame.iloc[:6], ["Stocks rally on rate cut hopes"], tmp_path / "s")
    student, _, id_map = load_student(tmp_path / "s")
    teacher, tok, _ = load_classifier(tiny_bert)
    _, rows = np.unique(id_map, return_index=True)  # the teacher id each student row came from
    rows[id_map[tok.unk_token_id]] = tok.unk_token_id  # (all unkept ids share [UNK]'s row)
    start = _pca_init(teacher.get_input_embeddings().weight.detach()[torch.as_tensor(rows)], 16)
    if mode == "frozen":  # rounded to float16 once at the start, and stored so
        torch.testing.assert_close(student.embed.weight, start.half().float(), rtol=0, atol=0)
        from safetensors import safe_open
        with safe_open(str(tmp_path / "s" / "model.safetensors"), "pt") as f:
            assert f.get_tensor("embed.weight").dtype == torch.float16
    else:  # the same start, trained: the rows the texts use have moved
        assert not torch.allclose(student.embed.weight, start)
    assert "token_dim" in json.loads((tmp_path / "s" / "config.json").read_text())["distillation"]


def test_token_level_features_need_a_student_with_a_state_per_piece():
    with pytest.raises(TrainingError, match="feature_level='token' with student='cnn'"):
        DistillArgs(teacher="t", student="cnn", feature_level="token")
    with pytest.raises(TrainingError, match="feature_level='words'"):
        DistillArgs(teacher="t", feature_level="words")


def test_teacher_outputs_are_cached_and_read_back_without_the_teacher(tmp_path, tiny_bert):
    from training.distill import teacher_targets, token_targets
    from training.hf import load_classifier

    model, tok, order = load_classifier(tiny_bert)
    ids = tok(["Profit rose sharply", "Shares plunge"])["input_ids"]
    args = DistillArgs(teacher=str(tiny_bert), token_dim=8)
    logits, feats = teacher_targets(model, tok, order, ids, "t", args, tmp_path, want_feats=True)
    states, offsets = token_targets(model, tok, ids, "t", args, tmp_path)
    assert len(list(tmp_path.glob("teacher-*.npz"))) == 1 and len(list(tmp_path.glob("tokens-*.npz"))) == 1
    again = teacher_targets(None, tok, order, ids, "t", args, tmp_path, want_feats=True)  # no teacher: from disk
    np.testing.assert_array_equal(again[0], logits)
    np.testing.assert_array_equal(again[1], feats)
    np.testing.assert_array_equal(token_targets(None, tok, ids, "t", args, tmp_path)[0], states)
    with pytest.raises(AttributeError):  # other texts are another key: computed, and None is no teacher
        teacher_targets(None, tok, order, ids[:1], "t", args, tmp_path, want_feats=False)


def test_ema_weights_are_what_is_validated_and_saved(tmp_path, tiny_data, tiny_bert):
    """Decay ~0 saves the raw weights (so the average reads training, never changes it), a real decay saves other
    (averaged) ones, and the card says so."""
    from models.artifact import load_student
    from training.card import _weights
    from training.distill import distil

    frame, _ = load_labelled([tiny_data])
    saved = {}
    for name, ema in (("raw", 0.0), ("tiny", 1e-9), ("ema", 0.9)):
        args = DistillArgs(teacher=str(tiny_bert), epochs=2, batch_size=8, embed_dim=16, hidden=8, augment=0,
                           ema=ema, evals_per_epoch=1, patience=10)
        distil(args, frame, frame.iloc[:6], [], tmp_path / name)
        saved[name] = load_student(tmp_path / name)[0].state_dict()
    lstm = [k for k in saved["raw"] if "lstm" in k]
    for k in lstm:
        torch.testing.assert_close(saved["tiny"][k], saved["raw"][k], rtol=1e-5, atol=1e-6)
    assert any(not torch.allclose(saved["ema"][k], saved["raw"][k]) for k in lstm)
    assert "moving average (decay 0.9" in _weights({"ema": 0.9}) and _weights({}) == ""
    with pytest.raises(TrainingError, match=r"ema=1.0 \(expected a decay in \[0, 1\)"):
        DistillArgs(teacher="t", ema=1.0)


def test_logit_matching_distils_and_the_card_names_it(tmp_path, tiny_data, tiny_bert):
    from training.card import _soft_term
    from training.distill import distil

    with pytest.raises(TrainingError, match=r"kd_loss='l2' \(expected one of \('kl', 'mse'\)\)"):
        DistillArgs(teacher="t", kd_loss="l2")
    frame, _ = load_labelled([tiny_data])
    args = DistillArgs(teacher=str(tiny_bert), kd_loss="mse", epochs=1, batch_size=8, embed_dim=16, hidden=8,
                       augment=0, evals_per_epoch=1)
    summary = distil(args, frame, frame.iloc[:6], [], tmp_path / "mse")
    assert summary["args"]["kd_loss"] == "mse" and summary["best"]["val_macro_f1"] >= 0
    assert "centred logits" in _soft_term(summary["args"]) and "T = 2.0" in _soft_term({"temperature": 2.0})


def test_augment_seed_keeps_the_labelled_copies_for_another_student_seed(tmp_path, tiny_data, tiny_bert):
    from models.artifact import load_student
    from training.distill import distil

    frame, _ = load_labelled([tiny_data])
    cache = tmp_path / "cache"
    run = lambda name, **kw: distil(DistillArgs(teacher=str(tiny_bert), epochs=1, batch_size=8, embed_dim=16, hidden=8,
                                                augment=2, evals_per_epoch=1, **kw), frame, frame.iloc[:6], [],
                                    tmp_path / name, cache)
    run("s13", seed=13)
    files = set(cache.iterdir())
    run("s29_same_copies", seed=29, augment_seed=13)
    assert set(cache.iterdir()) == files  # the teacher's outputs for the copies were read back, none computed
    run("s29", seed=29)
    assert len(set(cache.iterdir()) - files) == 1  # other copies: one more block of teacher outputs
    a, b = (load_student(tmp_path / n)[0].state_dict()["head.weight"] for n in ("s13", "s29_same_copies"))
    assert not torch.equal(a, b)  # another student seed all the same
