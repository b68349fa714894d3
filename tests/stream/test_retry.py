import itertools

import pytest

from stream.retry import Abandoned, Backoff, retry


def test_backoff_doubles_up_to_the_cap():
    assert list(itertools.islice(Backoff(0.5, 3.0).delays(), 6)) == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


@pytest.mark.parametrize("kwargs", [dict(initial_s=0), dict(initial_s=5, max_s=1), dict(factor=0.5)])
def test_backoff_rejects_bad_values(kwargs):
    with pytest.raises(ValueError, match="expected 0 < initial_s <= max_s"):
        Backoff(**kwargs)


async def test_retries_until_success_sleeping_the_backoff():
    attempts, slept = [], []

    async def step():
        attempts.append(1)
        if len(attempts) < 4:
            raise ConnectionError("down")
        return "ok"

    async def sleep(s):
        slept.append(s)

    errors = []
    assert await retry(step, Backoff(1, 4), lambda: False, what="x", on_error=errors.append, sleep=sleep,
                       tick_s=10) == "ok"
    assert slept == [1, 2, 4] and len(errors) == 3


async def test_abandons_when_the_worker_stops():
    async def step():
        raise ConnectionError("down")

    async def sleep(s):
        pass

    stop = iter([False, False, False, True])
    with pytest.raises(Abandoned, match="redis write still failing"):
        await retry(step, Backoff(1, 1), lambda: next(stop), what="redis write", sleep=sleep, tick_s=0.5)
