import numpy as np
import pytest

from training.distill import DistillArgs
from training.errors import TrainingError
from training.metrics import (_macro_f1_batched, format_difference, macro_f1, macro_f1_difference,
                              source_mean_macro_f1)


def _noisy(y, accuracy, rng):
    """Predictions that copy y with the given probability, else a random class."""
    return np.where(rng.random(len(y)) < accuracy, y, rng.integers(0, 3, len(y)))


@pytest.mark.parametrize("classes", [3, 2])  # 2: one class absent from labels and predictions
def test_batched_macro_f1_equals_sklearns(classes):
    rng = np.random.default_rng(0)
    y = rng.integers(0, classes, (5, 300))
    pred = np.where(rng.random((5, 300)) < 0.7, y, rng.integers(0, classes, (5, 300)))
    got = _macro_f1_batched(y, pred)
    assert got.shape == (5,)
    np.testing.assert_allclose(got, [macro_f1(y[i], pred[i]) for i in range(5)], rtol=0, atol=1e-12)


def test_identical_predictions_differ_by_exactly_zero():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 200)
    a = _noisy(y, 0.8, rng)
    assert macro_f1_difference(y, a, a.copy()) == {"diff": 0.0, "ci": [0.0, 0.0], "confidence": 0.95}


def test_a_clearly_better_model_has_an_interval_above_zero_and_the_reverse_below():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 1000)
    good, bad = _noisy(y, 0.9, rng), _noisy(y, 0.6, rng)
    d = macro_f1_difference(y, good, bad)
    assert d["diff"] == pytest.approx(macro_f1(y, good) - macro_f1(y, bad))
    assert 0 < d["ci"][0] < d["diff"] < d["ci"][1]
    r = macro_f1_difference(y, bad, good)
    assert r["ci"][0] < r["diff"] < r["ci"][1] < 0


def test_two_equally_good_models_get_an_interval_that_contains_zero_and_narrows_with_more_texts():
    rng = np.random.default_rng(3)
    widths = []
    for n in (300, 3000):
        y = rng.integers(0, 3, n)
        d = macro_f1_difference(y, _noisy(y, 0.8, rng), _noisy(y, 0.8, rng))
        assert d["ci"][0] < 0 < d["ci"][1]
        widths.append(d["ci"][1] - d["ci"][0])
    assert widths[1] < widths[0] / 2  # about 1/sqrt(10) as wide


def test_the_interval_is_reproducible_with_a_seed_and_bad_shapes_are_named():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, 400)
    a, b = _noisy(y, 0.8, rng), _noisy(y, 0.75, rng)
    assert macro_f1_difference(y, a, b, seed=5) == macro_f1_difference(y, a, b, seed=5)
    with pytest.raises(ValueError, match=r"expected three 1-D arrays of one length, got shapes \(400,\), \(399,\)"):
        macro_f1_difference(y, a[:-1], b)


def test_format_difference_signs_both_ends():
    assert format_difference({"diff": 0.0123, "ci": [-0.0101, 0.0345]}) == "+0.0123 [-0.0101, +0.0345]"


def test_source_mean_counts_every_source_alike():
    # A large source scored perfectly and a small one scored badly: pooled macro-F1 is near the large one's,
    # the source mean halfway between them.
    rng = np.random.default_rng(3)
    y_big, y_small = rng.integers(0, 3, 900), rng.integers(0, 3, 100)
    pred_small = (y_small + 1) % 3  # every one wrong
    y, pred = np.concatenate([y_big, y_small]), np.concatenate([y_big, pred_small])
    sources = np.array(["tweets"] * 900 + ["news"] * 100)
    assert source_mean_macro_f1(y, pred, sources) == pytest.approx((1.0 + 0.0) / 2)
    assert macro_f1(y, pred) > 0.85
    assert source_mean_macro_f1(y, pred, None) == macro_f1(y, pred)
    assert source_mean_macro_f1(y, pred, ["one"] * len(y)) == macro_f1(y, pred)


def test_source_mean_rejects_a_source_list_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"expected one source per text \(3\), got 2"):
        source_mean_macro_f1([0, 1, 2], [0, 1, 2], ["a", "b"])


def test_select_on_is_validated():
    assert DistillArgs(teacher="t", select_on="sources").select_on == "sources"
    with pytest.raises(TrainingError, match=r"select_on='best' \(expected one of \('pooled', 'sources'\)\)"):
        DistillArgs(teacher="t", select_on="best")
