"""The screen that runs for weeks (assets/live.js, /api/v1/live): outage, slow server, redeploy,
periodic reload, stale marking, and minutes of ticking without a console error, in headless
Chromium against the app in a subprocess that the tests stop, freeze and restart.

The demo district is built once for the module; each test starts its own server (on a port of
its own) so it may stop it. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, update
from test_browser import (
    ARTIFACTS,
    MAP_STATE_JS,
    _free_port,
    _require_browser,
    _severe,
    _viewport,
    _wait,
    chrome,
    start_app,
    stop_app,
    write_station_days,
)
from test_web_support import write_crowd_day, write_risk_days

from dashboard import migrate, queries, versions
from dashboard.db import get_engine, session_scope
from dashboard.models import DataVersion, WorkOrder, utcnow

pytestmark = pytest.mark.browser

TICK_S = 1
# live.js's fetch timeout: max(2 s, min(interval, 10 s)).
TIMEOUT_S = 2


class App:
    """The app in a subprocess on a fixed port, which a test may stop, freeze and start again."""

    def __init__(self, url: str, **env: str) -> None:
        self.url = url
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # A fixed build id: the code may change on disk while a test runs (a restart must not
        # look like a redeploy unless the test says so).
        self.env = {"DASHBOARD_BUILD_ID": "test-build", **env}
        self.proc: subprocess.Popen | None = None
        self.log = tempfile.TemporaryFile()

    def start(self, **env: str) -> None:
        self.env.update(env)
        self.proc = start_app(self.url, self.env, self.log, port=self.port)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop_app(self.proc)
        self.proc = None

    def freeze(self) -> None:
        """A hung server: the process stops answering but keeps its socket open."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> Iterator[str]:
    _require_browser()
    from dashboard.demo import build_demo, write_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'demo.sqlite3'}"
    migrate.upgrade(url)
    with session_scope(url) as session:
        write_demo(build_demo(), session=session)
    with session_scope(url) as session:
        write_risk_days(session, last_day=(utcnow() + dt.timedelta(hours=8)).date(), days=2)
    with session_scope(url) as session:
        write_crowd_day(session, now=utcnow())
    write_station_days(url)
    yield url
    get_engine(url).dispose()


@pytest.fixture
def app_server(demo_url) -> Iterator[App]:
    server = App(demo_url)
    server.start()
    try:
        yield server
    finally:
        server.thaw() if server.proc is not None else None
        server.stop()
        server.log.close()


@pytest.fixture
def browser() -> Iterator:
    with chrome() as driver:
        driver.set_script_timeout(30)
        yield driver


# The wall has drawn: the work-order tile's number and the district map's fills.
WALL_READY_JS = (
    "const n = document.querySelector('#kpi-work-orders .num');"
    f"const s = (() => {{{MAP_STATE_JS}}})();"
    "return n && s && s.fills > 100"
    " ? {orders: n.textContent, zoom: s.zoom, center: s.center} : null;"
)

BANNER_JS = """
const b = document.querySelector('[data-live=banner]');
return b && !b.hidden ? b.textContent : null;
"""

# A Dash error shown to the viewer (the dev-tools overlay, an error page) or an alert.
POPUP_JS = """
return [...document.querySelectorAll('.dash-fe-error__title, .dash-debug-alert, .dash-error-card,'
  + ' #_dash-global-error-container .error')].map(e => e.textContent.slice(0, 80));
"""


def _no_alert(driver) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        _ = driver.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


def _mark_page(driver) -> None:
    """A property a reload would lose."""
    driver.execute_script("window.__notReloaded = 'yes';")


def _reloaded(driver) -> bool:
    return driver.execute_script("return window.__notReloaded !== 'yes';")


def _open_work_orders(url: str) -> int:
    with session_scope(url) as s:
        return s.scalar(
            select(func.count())
            .select_from(WorkOrder)
            .where(WorkOrder.status.not_in(queries.WORK_ORDER_DONE), WorkOrder.closed_at.is_(None))
        )


def _close_one_work_order(url: str) -> None:
    """New data: one open work order closed."""
    with session_scope(url) as s:
        order = s.scalars(
            select(WorkOrder)
            .where(WorkOrder.status.not_in(queries.WORK_ORDER_DONE), WorkOrder.closed_at.is_(None))
            .limit(1)
        ).one()
        order.closed_at = utcnow()
        versions.bump("work_orders", session=s)


def _reopen_one_work_order(url: str) -> None:
    with session_scope(url) as s:
        order = s.scalars(
            select(WorkOrder)
            .where(WorkOrder.closed_at.is_not(None))
            .order_by(WorkOrder.closed_at.desc())
            .limit(1)
        ).one()
        order.closed_at = None
        versions.bump("work_orders", session=s)


def _local_hhmm(when: dt.datetime) -> str:
    return (when + dt.timedelta(hours=8)).strftime("%H:%M")


def test_live001_outage_keeps_the_frame_shows_a_banner_and_recovers_without_reload(
    app_server, browser, demo_url
):
    _viewport(browser, 1920, 1080)
    browser.get(app_server.base + "/")
    first = _wait(browser, WALL_READY_JS, what="the wall")
    assert first["orders"] == f"{_open_work_orders(demo_url):,}"
    # The operator zooms and pans the district map; no refresh may undo that.
    browser.execute_script(
        "const gd = document.querySelector('#wall-map .js-plotly-plot');"
        "Plotly.relayout(gd, {'map.zoom': arguments[0], 'map.center': {lon: 121.43, lat: 31.17}});",
        first["zoom"] + 1,
    )
    view = _wait(browser, WALL_READY_JS + "", what="the zoomed map")
    assert abs(view["zoom"] - (first["zoom"] + 1)) < 0.01
    _mark_page(browser)
    text_before = browser.execute_script("return document.querySelector('.wall-body').innerText")

    stopped = utcnow()
    app_server.stop()
    banner = _wait(browser, BANNER_JS, timeout=TICK_S + TIMEOUT_S + 5, what="the banner")
    # The first failed check's minute, on the server's clock (read to the second).
    minutes = {_local_hhmm(stopped + dt.timedelta(seconds=s)) for s in (-1, 0, 10)}
    assert banner in {f"连接中断，自 {m} 起" for m in minutes}, banner
    time.sleep(3 * TICK_S)  # a few failed ticks
    assert _no_alert(browser)
    assert browser.execute_script(POPUP_JS) == []
    # The last good frame stays: the same text, the map still drawn at the operator's view.
    assert browser.execute_script("return document.querySelector('.wall-body').innerText") == (
        text_before
    )
    kept = browser.execute_script(f"return (() => {{{MAP_STATE_JS}}})();")
    assert kept["fills"] > 100 and abs(kept["zoom"] - view["zoom"]) < 0.01
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "wall-connection-lost.png"))

    # Data moves on while the screen is cut off; the server comes back.
    _close_one_work_order(demo_url)
    expected = f"{_open_work_orders(demo_url):,}"
    assert expected != first["orders"]
    app_server.start()
    back = time.monotonic()
    # Within one refresh interval of the server answering (a refused connection fails at once,
    # so the next check is at most an interval away), plus the check's own time.
    _wait(
        browser,
        "return document.querySelector('[data-live=banner]').hidden;",
        timeout=TICK_S + 2,
        what="the banner to go within one refresh interval",
    )
    _wait(
        browser,
        f"return document.querySelector('#kpi-work-orders .num').textContent === '{expected}';",
        timeout=TICK_S + 10,
        what="the data that moved during the outage",
    )
    assert time.monotonic() - back < TICK_S + 10
    assert not _reloaded(browser), "the page reloaded instead of recovering"
    after = browser.execute_script(f"return (() => {{{MAP_STATE_JS}}})();")
    assert abs(after["zoom"] - view["zoom"]) < 0.01
    assert abs(after["center"][0] - view["center"][0]) < 1e-4
    assert _no_alert(browser)


# Counts the callbacks Dash starts (it calls the global fetch for each).
COUNT_DASH_CALLS_JS = """
if (!window.__dashCalls) {
  window.__dashCalls = [];
  const original = window.fetch;
  window.fetch = function (url, options) {
    if (String(url).includes('_dash-update-component')) window.__dashCalls.push(performance.now());
    return original.apply(this, arguments);
  };
}
"""


def test_live002_a_hung_server_gets_no_pile_of_requests(app_server, browser):
    _viewport(browser, 1920, 1080)
    browser.get(app_server.base + "/")
    _wait(browser, WALL_READY_JS, what="the wall")
    browser.execute_script(COUNT_DASH_CALLS_JS)
    time.sleep(2 * TICK_S)
    _mark_page(browser)
    hung_s = 8
    app_server.freeze()
    try:
        # Read after the freeze: a check that started before it may still succeed.
        t0 = browser.execute_script(
            "window.dashboardLive.maxInFlight = 0; return performance.now();"
        )
        _wait(browser, BANNER_JS, timeout=TICK_S + TIMEOUT_S + 5, what="the banner")
        time.sleep(
            max(0, hung_s - (browser.execute_script("return performance.now();") - t0) / 1000)
        )
        state = browser.execute_script(
            "const l = window.dashboardLive;"
            "return {now: performance.now(), max: l.maxInFlight, starts: l.checkStarts,"
            " dash: window.__dashCalls};"
        )
    finally:
        app_server.thaw()
    checks = [t for t in state["starts"] if t >= t0 + 100]
    dash = [t for t in state["dash"] if t >= t0 + 100]
    assert state["max"] == 1, "two checks in flight at once"
    # Each check is abandoned after the timeout, the next one starts after it: about
    # hung / timeout checks in the window, never one per tick stacked on the hung one.
    assert 1 <= len(checks) <= hung_s / TIMEOUT_S + 1, checks
    assert all(b - a >= TIMEOUT_S * 1000 - 50 for a, b in zip(checks, checks[1:], strict=False))
    # No callback is started against a server that does not answer.
    assert dash == [], dash
    _wait(
        browser,
        "return document.querySelector('[data-live=banner]').hidden;",
        timeout=TICK_S + TIMEOUT_S + 10,
        what="the recovery",
    )
    assert not _reloaded(browser)


def test_live003_a_redeploy_and_the_periodic_reload_reload_the_page(demo_url, browser):
    server = App(demo_url, DASHBOARD_BUILD_ID="build-1")
    server.start()
    try:
        _viewport(browser, 1920, 1080)
        browser.get(server.base + "/")
        _wait(browser, WALL_READY_JS, what="the wall")
        _mark_page(browser)
        time.sleep(3 * TICK_S)
        assert not _reloaded(browser), "reloaded with the same build"
        # The redeploy: the same server comes back with another build.
        server.stop()
        server.start(DASHBOARD_BUILD_ID="build-2")
        _wait(browser, "return window.__notReloaded !== 'yes';", timeout=20, what="the reload")
        _wait(browser, WALL_READY_JS, what="the wall after the reload")
        config = browser.execute_script(
            "return JSON.parse(document.getElementById('live-config').dataset.config);"
        )
        assert config["build"] == "build-2"
        # The periodic reload: after reload_hours (here 30 s), at the next successful check.
        server.stop()
        server.start(DASHBOARD_WALL_RELOAD_HOURS=str(30 / 3600))
        opened = time.monotonic()
        browser.get(server.base + "/")
        _wait(browser, WALL_READY_JS, what="the wall")
        _mark_page(browser)
        time.sleep(max(0.0, opened + 20 - time.monotonic()))
        assert not _reloaded(browser), "reloaded before reload_hours"
        _wait(browser, "return window.__notReloaded !== 'yes';", timeout=40, what="the reload")
        assert time.monotonic() - opened >= 30 - 1
        _wait(browser, WALL_READY_JS, what="the wall after the periodic reload")
    finally:
        server.stop()
        server.log.close()


def _age(url: str, dataset: str, seconds: float) -> None:
    """Make ``dataset`` look last written ``seconds`` ago (its version unchanged)."""
    with session_scope(url) as s:
        s.execute(
            update(DataVersion)
            .where(DataVersion.dataset == dataset)
            .values(updated_at=utcnow() - dt.timedelta(seconds=seconds))
        )


def _stale(driver, selector: str):
    return driver.execute_script(
        f"const el = document.querySelector('{selector}');"
        "return el ? el.getAttribute('data-stale') : 'missing';"
    )


def test_live004_a_late_dataset_marks_its_panels_and_the_header(app_server, browser, demo_url):
    from dashboard.config import get_settings

    expected = get_settings().dataset_expected_interval_s
    with session_scope(demo_url) as s:
        updated = s.scalar(select(DataVersion.updated_at).where(DataVersion.dataset == "crowd"))
    _age(demo_url, "crowd", 0)  # fresh to start with
    _viewport(browser, 1920, 1080)
    browser.get(app_server.base + "/")
    _wait(browser, WALL_READY_JS, what="the wall")
    _wait(browser, "return document.querySelector('[data-live=status]').textContent !== '';")
    assert _stale(browser, ".crowd-panel") is None
    status = browser.execute_script(
        "return document.querySelector('[data-live=status]').textContent"
    )
    assert "人群" not in status
    try:
        # Just under twice the expected interval: still on time.
        _age(demo_url, "crowd", 2 * expected["crowd"] - 30)
        time.sleep(3 * TICK_S)
        assert _stale(browser, ".crowd-panel") is None
        # Over it: marked within a tick, and the header names it; the other panels are not.
        _age(demo_url, "crowd", 2 * expected["crowd"] + 30)
        mark = _wait(
            browser,
            "return document.querySelector('.crowd-panel').getAttribute('data-stale');",
            timeout=5,
            what="the stale mark",
        )
        assert mark == "数据过期"
        status = browser.execute_script(
            "return document.querySelector('[data-live=status]').textContent"
        )
        assert status.startswith("数据迟到") and "人群" in status
        assert _stale(browser, ".risk-panel") is None
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "wall-crowd-stale.png"))
        # The mark goes on while the server is unreachable, and ageing goes on too: a panel
        # that was fresh when the connection dropped turns stale on the browser's clock.
        _age(demo_url, "crowd", 2 * expected["crowd"] - 8)
        _wait(
            browser,
            "return document.querySelector('.crowd-panel').getAttribute('data-stale') === null;",
            timeout=5,
            what="the mark to clear",
        )
        app_server.stop()
        _wait(browser, BANNER_JS, timeout=TICK_S + TIMEOUT_S + 5, what="the banner")
        _wait(
            browser,
            "return document.querySelector('.crowd-panel').getAttribute('data-stale');",
            timeout=10,
            what="the crowd panel to age into stale while disconnected",
        )
    finally:
        with session_scope(demo_url) as s:
            s.execute(
                update(DataVersion).where(DataVersion.dataset == "crowd").values(updated_at=updated)
            )


def test_live005_a_leaders_page_keeps_its_frame_and_recovers(app_server, browser):
    _viewport(browser, 1600, 900)
    browser.get(app_server.base + "/station")
    _wait(
        browser,
        "const gd = document.querySelector('.stationpage .js-plotly-plot');"
        "return gd && gd.data && gd.data.some(t => t.type === 'bar');",
        what="the station page",
    )
    _mark_page(browser)
    before = browser.execute_script("return document.querySelector('main').innerText")
    app_server.stop()
    banner = _wait(browser, BANNER_JS, timeout=TICK_S + TIMEOUT_S + 5, what="the banner")
    assert banner.startswith("连接中断")
    time.sleep(2)
    assert browser.execute_script("return document.querySelector('main').innerText") == before
    assert _no_alert(browser) and browser.execute_script(POPUP_JS) == []
    app_server.start()
    _wait(
        browser,
        "return document.querySelector('[data-live=banner]').hidden;",
        timeout=TICK_S + TIMEOUT_S + 10,
        what="the recovery",
    )
    assert not _reloaded(browser)


def test_live006_minutes_of_ticking_without_a_console_error(app_server, browser, demo_url):
    """Three minutes of 1-second ticks while data changes every few seconds."""
    _viewport(browser, 3840, 2160)
    browser.get(app_server.base + "/")
    _wait(browser, WALL_READY_JS, what="the wall")
    _mark_page(browser)
    end = time.monotonic() + 180
    changes = 0
    while time.monotonic() < end:
        time.sleep(5)
        # One order closed, then opened again, and so on: a change every 5 s.
        if changes % 2 == 0:
            _close_one_work_order(demo_url)
        else:
            _reopen_one_work_order(demo_url)
        changes += 1
    expected = f"{_open_work_orders(demo_url):,}"
    _wait(
        browser,
        f"return document.querySelector('#kpi-work-orders .num').textContent === '{expected}';",
        timeout=10,
        what="the last change",
    )
    checks = browser.execute_script("return window.dashboardLive.checks;")
    assert checks >= 120, checks  # about one per second, fewer while callbacks run
    assert not _reloaded(browser)
    assert _severe(browser) == []
