"""The page in real headless Chromium while data is written through the real sink and alert engine."""
from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from stream.dashboard.app import create_app
from stream.dashboard.settings import DashboardSettings
from stream.dashboard.testing import CALM, Publisher, record
from stream.embedded import free_port

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.integration,
              pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs Debian's chromium at {CHROMIUM} "
                                 "(apt-get install chromium; 'make install' does it as root)")]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def serve():
    """``serve(settings, dash)`` -> base URL of a real uvicorn server in a thread; stopped at teardown."""
    import uvicorn

    servers = []

    def start(settings, dash) -> str:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(settings, dash), host="127.0.0.1", port=port,
                                               log_level="warning", timeout_graceful_shutdown=1))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(5)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Writer(threading.Thread):
    """A worker's output at intervals: two tickers, one record each per batch, event time 8 s apart; from
    batch ``shock_at`` on AAPL's news turns strongly negative, which fires alerts. After ``hold_at`` batches it
    waits until ``resume`` is set, so that the page has drawn a chart before the rest arrives however slowly
    the browser started."""

    def __init__(self, settings, metrics, batches=45, shock_at=28, hold_at=5, pause_s=0.15):
        super().__init__(daemon=True)
        self.settings, self.metrics = settings, metrics
        self.batches, self.shock_at, self.hold_at, self.pause_s = batches, shock_at, hold_at, pause_s
        self.resume = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    async def _run(self) -> None:
        pub = Publisher(self.settings.redis_url, self.settings)
        self.t0 = t0 = int(time.time() * 1000) - self.batches * 8000
        for i in range(self.batches):
            if i == self.hold_at:
                await asyncio.to_thread(self.resume.wait, 60)
            aapl = -0.8 if i >= self.shock_at else CALM[i % len(CALM)]
            await pub.publish([
                record(f"a{i}", "AAPL", t0 + i * 8000, aapl,
                       "Apple shares slide after recall of millions of chargers" if aapl < 0 else None),
                record(f"m{i}", "MSFT", t0 + i * 8000 + 1, CALM[(i + 2) % len(CALM)])])
            self.metrics.messages_in.inc(2)
            self.metrics.messages_out.inc(2)
            self.metrics.e2e_latency.observe(0.04)
            await asyncio.sleep(self.pause_s)
        await pub.close()


async def write_once(settings, records) -> None:
    pub = Publisher(settings.redis_url, settings)
    await pub.publish(records)
    await pub.close()


def points(page) -> int:
    return int(page.get_attribute("#chart path.line", "data-points") or 0)


def test_live_chart_alert_and_silence(serve, browser, settings, worker_http):
    url_worker, metrics = worker_http
    base = serve(settings, DashboardSettings(workers=(url_worker,), refresh_s=0.3))
    writer = Writer(settings, metrics)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    writer.start()
    page.goto(base + "/")
    page.evaluate("window.__loaded_once = true")  # gone if the page ever reloads
    page.wait_for_function("() => +document.querySelector('#chart path.line')?.dataset.points >= 3", timeout=15_000)
    first = points(page)
    writer.resume.set()
    page.wait_for_function(f"() => +document.querySelector('#chart path.line').dataset.points > {first}",
                           timeout=15_000)
    assert points(page) > first, "the chart follows new data without a reload"
    alert = page.locator("#alerts li.alert.firing").first
    alert.wait_for(timeout=20_000)
    assert "AAPL" in alert.inner_text() and "recall" in alert.inner_text()  # evidence headlines shown
    page.wait_for_selector("#health .ok", timeout=10_000)  # the worker scraped as ready
    writer.join(30)
    assert writer.error is None
    page.wait_for_function("() => document.querySelector('#health').textContent.includes('msg/s')")
    page.wait_for_function("() => document.querySelector('#movers li')?.textContent.startsWith('AAPL')",
                           timeout=5_000)  # the shocked ticker moved most
    page.click("#tickers tbody tr[data-ticker=AAPL]")
    page.wait_for_function("() => document.querySelector('#selected').textContent === 'AAPL'")
    page.wait_for_selector("#headlines li:has-text('recall')", timeout=5_000)
    alert.locator("button").click()
    page.wait_for_selector("#silences li", timeout=5_000)
    assert "AAPL" in page.inner_text("#silences")
    page.locator("#tickers tbody tr").first.wait_for()
    assert page.evaluate("window.__loaded_once") is True
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    page.locator("#silences button").first.click()
    page.wait_for_function("() => document.querySelectorAll('#silences li').length === 0", timeout=5_000)
    # Calm news again: both episodes resolve; their firing notices are then shown as ended, without a button.
    calm = [record(f"a{writer.batches + i}", "AAPL", writer.t0 + (writer.batches + i) * 8000, CALM[i % len(CALM)])
            for i in range(14)]
    done = threading.Thread(target=asyncio.run, args=(write_once(settings, calm),))
    done.start()
    done.join(10)
    page.wait_for_function("() => document.querySelectorAll('#alerts li.alert.resolved').length === 2",
                           timeout=10_000)
    assert page.locator("#alerts li.alert.firing").count() == 0
    assert page.locator("#alerts li.alert.ended").count() == 2
    assert page.locator("#alerts li.alert.ended button").count() == 0
    assert errors == []


def test_token_from_url_then_session_storage(serve, browser, settings):
    from stream.dashboard.testing import scenario

    writer = threading.Thread(target=asyncio.run, args=(write_once(settings, scenario("NVDA", calm=10, shock=0)),))
    writer.start()  # Playwright's sync API owns this thread's event loop
    writer.join(10)
    locked = settings.model_copy(update={"api_token": SecretStr("s3cret")})
    base = serve(locked, DashboardSettings(refresh_s=0.3))
    page = browser.new_page()
    page.goto(base + "/")
    page.wait_for_selector("#login", state="visible", timeout=10_000)  # no token: the login form, no data
    page.goto(base + "/?token=s3cret")
    page.wait_for_selector("#tickers tbody tr[data-ticker=NVDA]", timeout=10_000)
    assert "token" not in page.url  # taken once, kept in sessionStorage
    page.reload()
    page.wait_for_selector("#tickers tbody tr[data-ticker=NVDA]", timeout=10_000)
    page.wait_for_function("() => document.querySelector('#live').textContent === 'live'", timeout=10_000)


CALM_HEADLINES = ("{t} shares climb after record profit", "{t} holds its annual shareholder meeting",
                  "{t} announces the dates of its developer conference")
SHOCK_HEADLINE = "{t} recalls millions of chargers as shares slide"


def news_file(path, ticker: str, start_ms: int, n: int, shock: bool, offset: int = 0) -> Path:
    """JSONL for ``finsentry replay``, 2 s apart in event time; the keyword model scores the calm headlines
    +0.92 or 0 and the shock headline -0.92."""
    import json

    with path.open("w") as fh:
        for i in range(n):
            text = (SHOCK_HEADLINE if shock else CALM_HEADLINES[(offset + i) % len(CALM_HEADLINES)]).format(t=ticker)
            fh.write(json.dumps({"ts": start_ms + (offset + i) * 2000, "tickers": [ticker], "headline": text}) + "\n")
    return path


def test_page_follows_a_replay_through_a_real_worker(browser, kafka, topics, redis_server, start_worker,
                                                     keyword_model, tmp_path):
    """The whole way: ``finsentry replay`` -> Kafka -> ``finsentry worker`` (scores, Redis, alert agent) ->
    ``finsentry dashboard`` -> the page. Calm news first; once the page has drawn it, a run of bad news."""
    import subprocess
    import sys

    from stream.dashboard.testing import FAST_RULES
    from stream.worker_process import DashboardProcess

    worker = start_worker(wait=False, model_dir=keyword_model, alerts=FAST_RULES)
    dashboard = DashboardProcess(tmp_path / "dashboard.log", workers=[worker.url], redis_url=redis_server.url,
                                 env={"FINSENTRY_DASHBOARD_REFRESH_S": "0.3"}).start()  # both start at once
    start_ms = int(time.time() * 1000) - 200_000

    def replay(path, rate: int) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "finsentry_cli", "replay", str(path), "--bootstrap",
                                 kafka.bootstrap, "--topic", topics["input_topic"], "--rate", str(rate)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    pages = []
    try:
        dashboard.wait_ready(30)
        worker.wait_ready(60)
        calm = replay(news_file(tmp_path / "calm.jsonl", "AAPL", start_ms, 60, shock=False), rate=40)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        pages.append(page)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(dashboard.url + "/")  # while the calm news is being replayed
        assert calm.wait(30) == 0, calm.stderr.read()
        # 60 articles 2 s apart fill 24 or 25 buckets of the 5-minute window's 5 s
        page.wait_for_function("() => +document.querySelector('#chart path.line')?.dataset.points >= 20",
                               timeout=30_000)
        first = points(page)
        shock = replay(news_file(tmp_path / "shock.jsonl", "AAPL", start_ms, 15, shock=True, offset=60), rate=10)
        page.wait_for_function(f"() => +document.querySelector('#chart path.line').dataset.points > {first}",
                               timeout=20_000)
        alert = page.locator("#alerts li.alert.firing").first
        alert.wait_for(timeout=30_000)
        assert "AAPL" in alert.inner_text() and "recalls millions of chargers" in alert.inner_text()
        assert shock.wait(30) == 0, shock.stderr.read()
        page.wait_for_selector("#health .ok", timeout=10_000)  # the real worker, scraped as ready
        page.wait_for_function("() => document.querySelector('#health').textContent.includes('msg/s')")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-worker.png"), full_page=True)
        assert errors == []
    finally:
        for page in pages:  # close its live connection first, or the server waits for it when told to stop
            page.close()
        dashboard.stop(10)
