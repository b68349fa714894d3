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
