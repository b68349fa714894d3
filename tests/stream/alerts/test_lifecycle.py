"""The Alertmanager-like lifecycle, driven directly (pure)."""
from __future__ import annotations

from stream.alerts.lifecycle import FIRING, INACTIVE, PENDING, Lifecycle, Timing, fingerprint


def run(lc, steps, timing, silenced=()):
    out = []
    for i, (active, direction) in enumerate(steps):
        n = lc.step(active, direction, float(i * 10), timing, i in silenced)
        out.append(n and n.kind)
    return out


def test_fingerprint_is_stable_and_distinguishes_direction():
    assert fingerprint("AAPL", "ewma", -1) == fingerprint("AAPL", "ewma", -1) == "e4601dd096cf6deb"
    assert len({fingerprint("AAPL", "ewma", 1), fingerprint("AAPL", "ewma", -1),
                fingerprint("AAPL", "cusum", 1), fingerprint("MSFT", "ewma", 1)}) == 4


def test_for_period_in_articles_then_one_firing_then_resolved():
    lc = Lifecycle()
    kinds = run(lc, [(True, 1)] * 6 + [(False, 0)] * 2, Timing(for_articles=3))
    assert kinds == [None, None, None, "firing", None, None, "resolved", None]
    assert lc.state == INACTIVE


def test_for_period_in_seconds():
    lc = Lifecycle()
    assert run(lc, [(True, -1)] * 5, Timing(for_articles=0, for_seconds=25)) == [None, None, None, "firing", None]


def test_a_blip_shorter_than_the_for_period_never_notifies():
    lc = Lifecycle()
    assert run(lc, [(True, 1), (True, 1), (False, 0), (True, 1), (False, 0)], Timing(for_articles=2)) == [None] * 5
    assert lc.state == INACTIVE


def test_repeat_interval():
    lc = Lifecycle()
    kinds = run(lc, [(True, 1)] * 8, Timing(for_articles=0, repeat_interval_s=30))
    assert kinds == ["firing", None, None, "repeat", None, None, "repeat", None]


def test_direction_flip_resolves_the_old_alert_and_starts_a_new_one():
    lc = Lifecycle()
    kinds = run(lc, [(True, 1), (True, 1), (True, -1), (True, -1), (True, -1)], Timing(for_articles=1))
    assert kinds == [None, "firing", "resolved", "firing", None]
    assert lc.direction == -1


def test_silenced_alert_notifies_when_the_silence_ends_and_resolves_quietly_if_never_notified():
    lc = Lifecycle()
    kinds = run(lc, [(True, 1)] * 5 + [(False, 0)], Timing(for_articles=1), silenced={0, 1, 2})
    assert kinds == [None, None, None, "firing", None, "resolved"]
    lc = Lifecycle()
    kinds = run(lc, [(True, 1)] * 3 + [(False, 0)], Timing(for_articles=1), silenced={0, 1, 2, 3})
    assert kinds == [None, None, None, None]


def test_a_silence_added_after_the_firing_notice_mutes_repeats_but_not_the_resolve():
    lc = Lifecycle()
    kinds = run(lc, [(True, 1)] * 6 + [(False, 0)], Timing(for_articles=0, repeat_interval_s=10),
                silenced={2, 3, 4, 5, 6})
    assert kinds == ["firing", "repeat", None, None, None, None, "resolved"]
    assert lc.state == INACTIVE


def test_notices_carry_the_episode_and_round_trip():
    lc = Lifecycle()
    t = Timing(for_articles=1)
    lc.step(True, -1, 100.0, t)
    lc = Lifecycle.from_state(lc.state_dict())
    assert lc.state == PENDING
    fired = lc.step(True, -1, 110.0, t)
    assert (fired.kind, fired.since_ts, fired.fired_ts, fired.sequence) == ("firing", 100.0, 110.0, 1)
    assert lc.state == FIRING
    resolved = lc.step(False, 0, 150.0, t)
    assert (resolved.kind, resolved.since_ts, resolved.ts, resolved.sequence, resolved.direction) == \
        ("resolved", 100.0, 150.0, 2, -1)


def test_keep_firing_for_joins_a_brief_clear_spell_to_the_episode_and_survives_a_restart():
    t = Timing(for_articles=1, keep_firing_for=3)
    lc = Lifecycle()
    assert run(lc, [(True, 1)] * 2 + [(False, 0)] * 2, t) == [None, "firing", None, None]
    lc = Lifecycle.from_state(lc.state_dict())  # a restart mid-spell keeps counting the clear articles
    kinds = [n and n.kind for n in (lc.step(a, d, 50.0 + i, t) for i, (a, d) in enumerate(
        [(True, 1)] + [(False, 0)] * 4))]
    assert kinds == [None, None, None, None, "resolved"]  # the return continued the episode; held 3, then resolved
    assert lc.state == INACTIVE and lc.sequence == 2  # one firing, one resolved: a single episode
    lc = Lifecycle()  # a direction flip is a new alert at once, whatever keep_firing_for says
    assert run(lc, [(True, 1), (True, 1), (True, -1), (True, -1)], t) == [None, "firing", "resolved", "firing"]


def test_keep_firing_for_zero_resolves_on_the_first_clear_article():
    lc = Lifecycle()
    assert run(lc, [(True, 1), (True, 1), (False, 0), (True, 1), (True, 1)], Timing(for_articles=1)) == \
        [None, "firing", "resolved", None, "firing"]
