"""Detectors on seeded synthetic streams: exact alarm points, bounded delay, promised false-alarm rate."""
from __future__ import annotations

import json

import pytest

from stream.alerts.detectors import CUSUM, Detector, EWMAChart, VolumeDetector
from stream.alerts.errors import AlertConfigError
from stream.alerts.testing import gaussian_scores, mixture_scores, window_counts

SMALL = dict(alpha=0.01, min_articles=5, lag=10, sigma_floor=0.1, cool=1, clip=3.0)  # hand-worked: clip 3 sigma


def alarms(det, xs, weights=None):
    return [i for i, x in enumerate(xs) if det.update(float(x), 1.0 if weights is None else float(weights[i])).drift_detected]


def test_every_detector_has_the_shared_shape():
    for det in (EWMAChart(), CUSUM(), VolumeDetector()):
        assert isinstance(det, Detector)
        assert det.update(0.0) is det
        assert (det.drift_detected, det.active, det.direction) == (False, False, 0)


@pytest.mark.parametrize("det, stream, expected", [
    # sigma = floor 0.1, chart sd = 0.1*sqrt(.5/1.5) = .0577; x clipped to mean + 0.3:
    # z = .15 (2.6 sd), .225 (3.9 sd) -> alarm on the second article of the step.
    (EWMAChart(lam=0.5, limit=3.0, clear=1.0, **SMALL), [0.0] * 10 + [1.0] * 5, [11]),
    # u clipped at -3: S- = 2.5, 5.0 > h=4 -> second article.
    (CUSUM(k=0.5, h=4.0, clear=1.0, **SMALL), [0.0] * 10 + [-0.3] * 5, [11]),
    # k=0.5, u=+1.5 per article: S+ = 1, 2, 3, 4, 5 > 4.5 at the fifth article of the step.
    (CUSUM(k=0.5, h=4.5, clear=1.0, **SMALL), [0.0] * 10 + [0.15] * 8, [14]),
    # up, hold, back to base: the alarm clears (reset), then a fresh step down alarms again.
    (EWMAChart(lam=0.5, limit=3.0, clear=1.0, **SMALL), [0.0] * 10 + [1.0] * 4 + [0.0] * 6 + [-1.0] * 3, [11, 21]),
])
def test_exact_alarm_indices(det, stream, expected):
    assert alarms(det, stream) == expected


def test_volume_exact_alarm_and_cool_down():
    vol = VolumeDetector(limit=4.0, clear=1.0, min_windows=4, min_count=5, cool=2, lag=0)
    counts = [2, 1, 2, 1, 2, 1, 9, 12, 2, 9, 2, 2, 2, 2, 11]
    assert alarms(vol, counts) == [6, 14]  # the dip at 8 is not enough to end the surge (cool=2)


def test_nothing_fires_during_warm_up_or_from_one_headline():
    det = EWMAChart(**{**SMALL, "min_articles": 20})
    assert alarms(det, [0.0] * 19 + [1.0]) == []
    det = EWMAChart(lam=0.1, limit=4.0, **SMALL)
    assert alarms(det, [0.0] * 30 + [-1.0] + [0.0] * 10) == []
    det = CUSUM(k=0.5, h=10.0, **SMALL)
    assert alarms(det, [0.0] * 30 + [-1.0] + [0.0] * 10) == []


def test_zero_weight_changes_nothing():
    det = EWMAChart(**SMALL)
    alarms(det, [0.0, 0.1] * 10)
    before = det.state_dict()["state"]["z"]
    det.update(1.0, weight=0.0)
    assert det.state_dict()["state"]["z"] == before


@pytest.mark.parametrize("cls, bound", [(EWMAChart, 16), (CUSUM, 14)])
def test_two_sigma_step_is_found_within_a_bounded_number_of_articles(cls, bound):
    for seed in range(20):
        x = gaussian_scores(700, seed=seed, change_at=500, shift=-2.0)
        det = cls()
        hits = [i for i in alarms(det, x) if i >= 500]
        assert hits and hits[0] - 500 < bound, (seed, hits)
        assert det.direction == -1 or not det.active


@pytest.mark.parametrize("cls, measured", [(EWMAChart, 6), (CUSUM, 3)])
def test_stationary_100k_articles_stay_within_the_promised_false_alarms(cls, measured):
    # Promise with default parameters: at most 2 false alarms per 10k articles (20 per 100k).
    x = gaussian_scores(100_000, seed=0)
    n = len(alarms(cls(), x))
    assert n <= 20
    assert n == measured  # seeded: pins the figure quoted in benchmarks/RESULTS.md


@pytest.mark.parametrize("cls, measured", [(EWMAChart, 8), (CUSUM, 11)])
def test_mostly_good_news_does_not_page_on_its_rare_bad_headlines(cls, measured):
    # A ticker with 70% positive, 10% negative news: each bad headline is a deviation of about 2.5 sigma, and
    # a short run of them by chance must not cross the limit more often than the promise allows.
    scores, _ = mixture_scores(100_000, seed=0, mix=(0.1, 0.2, 0.7))
    n = len(alarms(cls(), scores))
    assert n <= 20
    assert n == measured  # seeded (the EWMA with clip 3, its earlier default, gave 21); RESULTS.md: 3 seeds


def test_stationary_sentiment_mixture_with_confidence_weights_is_quieter():
    scores, conf = mixture_scores(50_000, seed=1)
    assert len(alarms(EWMAChart(), scores, conf)) <= len(alarms(EWMAChart(), scores)) <= 10


def test_volume_false_alarms_and_surge_delay():
    counts = window_counts(50_000, seed=0, rate=2.0)  # ~100k articles
    assert len(alarms(VolumeDetector(), counts)) <= 20
    for seed in range(10):
        c = window_counts(400, seed=seed, change_at=300, factor=5.0)
        hits = [i for i in alarms(VolumeDetector(), c) if i >= 300]
        assert hits and hits[0] - 300 <= 5, (seed, hits)


@pytest.mark.parametrize("cls", [EWMAChart, CUSUM])
def test_state_round_trip_continues_exactly(cls):
    x = gaussian_scores(1_500, seed=3, change_at=900, shift=1.5)
    whole = alarms(cls(), x)
    det = cls()
    first = alarms(det, x[:950])
    det = cls.from_state(json.loads(json.dumps(det.state_dict())))
    second = [i + 950 for i in alarms(det, x[950:])]
    assert first + second == whole and whole


def test_from_state_lets_new_parameters_win_and_checks_the_kind():
    det = EWMAChart()
    alarms(det, [0.1, -0.1] * 40)
    again = EWMAChart.from_state(det.state_dict(), limit=5.0)
    assert again.limit == 5.0 and again.n == det.n
    with pytest.raises(AlertConfigError, match="expected state of a CUSUM"):
        CUSUM.from_state(det.state_dict())


@pytest.mark.parametrize("make, message", [
    (lambda: EWMAChart(lam=0), r"ewma.lam: expected a number in \(0, 1\], got 0"),
    (lambda: EWMAChart(limit=2.0, clear=2.5), "ewma.clear: expected a value below limit=2.0, got 2.5"),
    (lambda: CUSUM(h=-1), r"cusum.h: expected a number in \(0, inf\), got -1"),
    (lambda: CUSUM(min_articles=2.5), r"cusum.min_articles: expected an integer in \[2, inf\), got 2.5"),
    (lambda: VolumeDetector(two_sided="yes"), "volume.two_sided: expected true or false, got 'yes'"),
    (lambda: EWMAChart(alpha=float("nan")), "ewma.alpha: expected a number"),
])
def test_parameters_are_validated_with_clear_messages(make, message):
    with pytest.raises(AlertConfigError, match=message):
        make()


def test_bad_observations_are_rejected():
    with pytest.raises(ValueError, match="finite number for x"):
        EWMAChart().update(float("inf"))
    with pytest.raises(ValueError, match="weight >= 0"):
        CUSUM().update(0.0, weight=-1)
