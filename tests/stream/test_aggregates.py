import itertools
import math
import random

import pytest

from stream.aggregates import Ewma, TickerAggregate, WindowState, label_sign
from stream.errors import ConfigError
from stream.windows import Window, parse_duration, parse_windows

MIN = Window("1m", 60_000, 6)  # 10 s buckets


def fill(events, window=MIN) -> WindowState:
    state = WindowState()
    for ts, score, label in events:
        state.add(window, ts, score, label_sign(label))
    return state


def test_window_counts_mean_and_shares():
    state = fill([(0, 0.5, "positive"), (1_000, -0.5, "negative"), (2_000, 0.3, "neutral"), (3_000, 0.9, "positive")])
    assert state.snapshot() == pytest.approx({"count": 4, "mean": 0.3, "pos_share": 0.5, "neg_share": 0.25})


def test_buckets_expire_exactly_when_they_leave_the_window():
    state = fill([(5_000, 1.0, "positive"), (15_000, -1.0, "negative")])
    state.add(MIN, 59_999, 0.0, 0)  # bucket 5: the window is buckets 0..5, nothing expires
    assert state.snapshot()["count"] == 3
    state.add(MIN, 60_000, 0.0, 0)  # bucket 6: bucket 0 (ts 5 s) leaves
    assert state.snapshot() == pytest.approx({"count": 3, "mean": -1 / 3, "pos_share": 0.0, "neg_share": 1 / 3})
    assert 0 not in state.buckets


def test_a_jump_past_the_whole_window_empties_it():
    state = fill([(0, 1.0, "positive"), (10_000, 1.0, "positive"), (10_000_000, -0.5, "negative")])
    assert state.snapshot() == {"count": 1, "mean": -0.5, "pos_share": 0.0, "neg_share": 1.0}
    assert list(state.buckets) == [10_000_000 // 10_000]


def test_late_events_inside_the_window_count_and_older_ones_do_not():
    state = fill([(100_000, 0.2, "neutral"), (55_000, 0.4, "positive"), (45_000, 0.9, "positive")])
    assert state.snapshot() == pytest.approx({"count": 2, "mean": 0.3, "pos_share": 0.5, "neg_share": 0.0})


def test_window_state_is_order_independent():
    rng = random.Random(7)
    events = [(rng.randrange(0, 400_000), rng.uniform(-1, 1), rng.choice(["positive", "neutral", "negative"]))
              for _ in range(200)]
    reference = fill(sorted(events)).snapshot()
    for _ in range(5):
        rng.shuffle(events)
        assert fill(events).snapshot() == pytest.approx(reference, abs=1e-12)


def test_ewma_halflife_weights():
    ewma = Ewma.with_halflife(60)
    ewma.add(0, 1.0)
    ewma.add(60_000, 0.0)  # the older value now weighs 1/2 against 1
    assert ewma.value == pytest.approx(0.5 / 1.5)
    ewma.add(0, 1.0)  # a late duplicate-time value weighs the same as the first one
    assert ewma.value == pytest.approx(1.0 / 2.0)


def test_ewma_is_order_independent():
    events = [(0, 0.1), (1_000, -0.7), (5_000, 0.9), (5_000, 0.2), (30_000, -0.1)]
    values = set()
    for perm in itertools.permutations(events):
        ewma = Ewma.with_halflife(10)
        for ts, x in perm:
            ewma.add(ts, x)
        values.add(round(ewma.value, 12))
    assert len(values) == 1
    expected_w = sum(math.exp(-(30_000 - ts) / (10_000 / math.log(2))) for ts, _ in events)
    expected_s = sum(x * math.exp(-(30_000 - ts) / (10_000 / math.log(2))) for ts, x in events)
    assert values.pop() == pytest.approx(expected_s / expected_w)


def test_ticker_aggregate_snapshot_fields():
    agg = TickerAggregate(parse_windows(["1m", "1h"]), Ewma.with_halflife(60))
    agg.add(1_000, 0.5, "positive")
    snap = agg.snapshot()
    assert snap["1m:count"] == 1 and snap["1h:mean"] == 0.5 and snap["ewma"] == 0.5 and snap["last_ts"] == 1_000


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("5m", 300), ("1h", 3600), ("1d", 86_400), ("90", 90)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("names, buckets, match", [
    (["0m"], 60, "positive duration"), (["5x"], 60, "positive duration"), (["7s"], 3, "whole-millisecond"),
    (["5m", "5m"], 60, "unique"), ([], 60, "at least")])
def test_bad_windows_name_the_problem(names, buckets, match):
    with pytest.raises(ConfigError, match=match):
        parse_windows(names, buckets)
