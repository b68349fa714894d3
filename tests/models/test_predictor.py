import json

import numpy as np
import pytest

from models import ModelError, Predictor, Score
from models.quantize import save_quantized
from models.testing import make_tiny_artifact

TEXTS = ["Shares of Nokia jump 5% after record quarter", "Profit warning sends $TSLA lower", "The AGM is on Monday"]


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    return make_tiny_artifact(tmp_path_factory.mktemp("m") / "tiny")


def test_artifact_round_trip_gives_identical_predictions(artifact, tmp_path):
    a = Predictor.load(artifact, device="cpu")
    probs = a.predict_proba(TEXTS)
    # a second load, and a different batch composition and order, give the same numbers
    b = Predictor.load(artifact, device="cpu")
    again = b.predict_proba(list(reversed(TEXTS)), batch_size=1)[::-1]
    np.testing.assert_allclose(probs, again, atol=1e-6)
    assert a.version == b.version and a.version.startswith("bilstm-")
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)


def test_artifact_files_describe_the_model(artifact):
    cfg = json.loads((artifact / "config.json").read_text())
    assert cfg["architecture"] == "bilstm" and cfg["labels"] == ["negative", "neutral", "positive"]
    assert cfg["max_length"] == 64 and cfg["version"].endswith(cfg["version"].split("-")[1])
    assert (artifact / "model.safetensors").is_file() and (artifact / "tokenizer.json").is_file()


def test_version_changes_with_weights(tmp_path):
    v1 = Predictor.load(make_tiny_artifact(tmp_path / "a", seed=1)).version
    v2 = Predictor.load(make_tiny_artifact(tmp_path / "b", seed=2)).version
    v1_again = Predictor.load(make_tiny_artifact(tmp_path / "c", seed=1)).version
    assert v1 != v2 and v1 == v1_again


def test_a_float16_stored_table_loads_exactly_and_a_lossy_one_is_refused(tmp_path):
    import torch
    from safetensors import safe_open

    from models.artifact import load_student, save_student
    from models.pretrained import minilm_path
    from models.student import BiLSTMConfig, BiLSTMStudent

    torch.manual_seed(0)
    model = BiLSTMStudent(BiLSTMConfig(embed_dim=8, hidden=8, dropout=0.0)).eval()
    tok = minilm_path() / "tokenizer.json"
    with pytest.raises(ModelError, match="embed.weight is not exactly representable in float16"):
        save_student(tmp_path / "lossy", model, "bilstm", tok, 64, half=("embed.weight",))
    with pytest.raises(ModelError, match="got 'embedding'"):
        save_student(tmp_path / "lossy", model, "bilstm", tok, 64, half=("embedding",))
    with torch.no_grad():
        model.embed.weight.copy_(model.embed.weight.half().float())
    save_student(tmp_path / "full", model, "bilstm", tok, 64)
    save_student(tmp_path / "half", model, "bilstm", tok, 64, half=("embed.weight",))
    with safe_open(str(tmp_path / "half" / "model.safetensors"), "pt") as f:
        assert f.get_tensor("embed.weight").dtype == torch.float16 and f.get_tensor("head.weight").dtype == torch.float32
    loaded, _, _ = load_student(tmp_path / "half")
    assert loaded.embed.weight.dtype == torch.float32
    torch.testing.assert_close(loaded.embed.weight, model.embed.weight, rtol=0, atol=0)
    size = lambda d: (tmp_path / d / "model.safetensors").stat().st_size
    assert size("half") < size("full") - 30522 * 8 * 2 + 1000
    np.testing.assert_array_equal(Predictor.load(tmp_path / "half").predict_proba(TEXTS),
                                  Predictor.load(tmp_path / "full").predict_proba(TEXTS))


def test_scores_are_signed_probability_differences(artifact):
    scores = Predictor.load(artifact).predict(TEXTS)
    assert len(scores) == 3 and all(isinstance(s, Score) for s in scores)
    for s in scores:
        assert s.score == pytest.approx(s.probs["positive"] - s.probs["negative"])
        assert s.label == max(s.probs, key=s.probs.get)
        assert s.to_dict()["label"] == s.label


def test_long_text_is_truncated_not_rejected(artifact):
    p = Predictor.load(artifact)
    long = " ".join(["profit"] * 5000)
    assert p.encoder.ids([long])[0].__len__() == p.max_length
    assert p.predict([long])[0].label in p.labels


@pytest.mark.parametrize("bad, message", [
    (["ok", 3], "text 1 must be a str, got int"),
    (["ok", "   "], "text 1 is empty"),
    ("a single string", "got a single string"),
    ([None], "text 0 must be a str, got NoneType"),
])
def test_bad_input_raises_clear_error(artifact, bad, message):
    with pytest.raises(ModelError, match=message):
        Predictor.load(artifact).predict(bad)


def test_empty_batch_gives_empty_result(artifact):
    assert Predictor.load(artifact).predict([]) == []


def test_bad_artifact_and_device_are_named(tmp_path, artifact):
    with pytest.raises(ModelError, match="no config.json"):
        Predictor.load(tmp_path)
    with pytest.raises(ModelError, match="device must be auto, cpu or cuda"):
        Predictor.load(artifact, device="tpu")
    (tmp_path / "config.json").write_text('{"finsentry_format": 1, "architecture": "lstm9"}')
    with pytest.raises(ModelError, match="lacks 'args'"):
        Predictor.load(tmp_path)


def test_int8_quantised_copy_serves_close_scores(artifact, tmp_path):
    version = save_quantized(artifact, tmp_path / "q")
    q = Predictor.load(tmp_path / "q", device="cpu")
    assert q.version == version and version.endswith("-int8")
    fp32 = Predictor.load(artifact).predict_proba(TEXTS)
    np.testing.assert_allclose(q.predict_proba(TEXTS), fp32, atol=0.05)


def test_ensemble_scores_with_the_mean_of_its_members_logits(tmp_path):
    import torch

    members = [Predictor.load(make_tiny_artifact(tmp_path / f"m{seed}", seed=seed), device="cpu") for seed in (0, 1)]
    ensemble = Predictor.average(members)
    assert Predictor.average(members[:1]) is members[0]
    assert ensemble.version.startswith("ensemble2-") and ensemble.version != Predictor.average(members[::-1]).version
    ids, mask = members[0].encoder(TEXTS)
    with torch.no_grad():
        mean = sum(m.model(ids, mask)[0] for m in members) / 2
    np.testing.assert_allclose(ensemble.predict_proba(TEXTS), torch.softmax(mean, -1).numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(ensemble.predict_proba(TEXTS), members[0].predict_proba(TEXTS))


def test_ensemble_members_must_tokenise_alike(tmp_path):
    a = Predictor.load(make_tiny_artifact(tmp_path / "a"), device="cpu")
    b = Predictor.load(make_tiny_artifact(tmp_path / "b", max_length=32), device="cpu")
    with pytest.raises(ModelError, match="tokenises differently"):
        Predictor.average([a, b])
    with pytest.raises(ModelError, match="at least one member"):
        Predictor.average([])


def test_ensemble_members_with_pruned_vocabularies_need_the_same_map(tmp_path):
    from models.artifact import save_student
    from models.pretrained import minilm_path
    from models.student import BiLSTMConfig, BiLSTMStudent
    from models.tokenizer import build_id_map

    def pruned(name, kept):
        model = BiLSTMStudent(BiLSTMConfig(vocab_size=len(kept), embed_dim=8, hidden=8, dropout=0.0))
        save_student(tmp_path / name, model, "bilstm", minilm_path() / "tokenizer.json", 64,
                     id_map=build_id_map(np.array(kept), 30522, 100))
        return Predictor.load(tmp_path / name, device="cpu")

    a, b, c = pruned("a", [0, 100, 2000, 3000]), pruned("b", [0, 100, 2000, 3000]), pruned("c", [0, 100, 2000, 4000])
    assert Predictor.average([a, b]).predict_proba(TEXTS).shape == (3, 3)
    with pytest.raises(ModelError, match="vocabulary map"):
        Predictor.average([a, c])
    with pytest.raises(ModelError, match="vocabulary map"):
        Predictor.average([a, Predictor.load(make_tiny_artifact(tmp_path / "full"), device="cpu")])
