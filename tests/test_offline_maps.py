"""Offline maps: the basemap is our own layers, intranet tiles are optional, nothing else leaves.

Unit checks (no browser): the tile setting's validation, and that every map's MapLibre style
carries the configured tile template (at the bottom) and nothing of the kind when unset.

Browser checks (headless Chromium, every host name but 127.0.0.1 unresolvable): the wall, /risk
and /crowd draw their maps with their station layers while every request the page makes goes to
the app itself; then a second app, pointed at a tiny tile server this test runs, shows that the
wall's maps fetch their tiles from it (and still from nowhere else).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import ValidationError
from selenium.common.exceptions import WebDriverException
from sqlalchemy import select
from test_browser import (
    ARTIFACTS,
    _require_browser,
    _viewport,
    _wait,
    chrome,
    serve_app,
)
from test_web_support import NOW, use_as_app_database, write_crowd_day, write_risk_days

from dashboard import figures, migrate
from dashboard.config import Settings
from dashboard.db import get_engine, session_scope
from dashboard.models import Station, utcnow

TILE_URL = "http://tiles.intranet:8080/xyz/{z}/{x}/{y}.png"

# --------------------------------------------------------------------------- the setting


@pytest.mark.parametrize(
    "url",
    [
        "http://tiles.intranet/{z}/{x}/{y}.png",
        "https://10.2.3.4:8443/base/{z}/{y}/{x}.webp?layer=vec",
        "  HTTP://gis/{z}/{x}/{y}  ",
    ],
)
def test_offline001_tile_url_accepts_http_xyz_templates(url):
    assert Settings(map_tile_url=url).map_tile_url == url.strip()


@pytest.mark.parametrize("url", [None, "", "   "])
def test_offline002_no_tile_url_means_no_tiles(url):
    assert Settings(map_tile_url=url).map_tile_url is None
    assert Settings().map_tile_url is None and Settings().map_tile_attribution == ""


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://tiles.intranet/{z}/{x}.png", "lacks {y}"),
        ("http://tiles.intranet/tile.png", "lacks {z}, {x}, {y}"),
        ("ftp://tiles.intranet/{z}/{x}/{y}.png", "not http(s)"),
        ("tiles.intranet/{z}/{x}/{y}.png", "not http(s)"),
        ("/tiles/{z}/{x}/{y}.png", "not http(s)"),
        ("http:///{z}/{x}/{y}.png", "not http(s)"),
    ],
)
def test_offline003_tile_url_refuses_anything_else_saying_why(url, why):
    with pytest.raises(ValidationError) as err:
        Settings(map_tile_url=url)
    message = str(err.value)
    assert "map_tile_url must be an http(s) XYZ tile template" in message
    assert why in message and repr(url) in message


def test_offline004_tile_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DASHBOARD_MAP_TILE_URL", TILE_URL)
    monkeypatch.setenv("DASHBOARD_MAP_TILE_ATTRIBUTION", "© 区测绘院")
    s = Settings()
    assert (s.map_tile_url, s.map_tile_attribution) == (TILE_URL, "© 区测绘院")
    monkeypatch.setenv("DASHBOARD_MAP_TILE_URL", "tiles/{z}/{x}/{y}")
    with pytest.raises(ValidationError):
        Settings()


# --------------------------------------------------------------------------- the style


def _fetched(style: dict) -> list[str]:
    """Everything in a style that would make MapLibre fetch something."""
    urls = [u for src in style["sources"].values() for u in src.get("tiles", [])]
    urls += [src["url"] for src in style["sources"].values() if "url" in src]
    urls += [src["data"] for src in style["sources"].values() if isinstance(src.get("data"), str)]
    return urls + [style[k] for k in ("glyphs", "sprite") if k in style]


STATIONS = [
    figures.StationMark("上海南站", "railway", 121.4302, 31.1546),
    figures.StationMark("徐家汇", "metro", 121.4365, 31.1880),
]


def test_offline005_style_without_tiles_fetches_nothing():
    style = figures.map_style(None, STATIONS)
    assert _fetched(style) == []
    assert "http" not in json.dumps(style)
    assert [layer["id"] for layer in style["layers"]] == [
        "background",
        figures.STATIONS_LAYER,
        figures.STATION_NAMES_LAYER,
    ]
    names = [f["properties"]["name"] for f in style["sources"]["stations"]["data"]["features"]]
    assert names == ["上海南站", "徐家汇"]
    assert figures.map_style(figures.Basemap(None, "ignored")) == figures.map_style()


def test_offline006_style_with_tiles_puts_them_at_the_bottom():
    style = figures.map_style(figures.Basemap(TILE_URL, "© <区测绘院>"), STATIONS)
    assert _fetched(style) == [TILE_URL]
    assert style["sources"]["tiles"] == {
        "type": "raster",
        "tiles": [TILE_URL],
        "tileSize": 256,
        "attribution": "© &lt;区测绘院&gt;",  # MapLibre shows it as HTML: the setting is text
    }
    ids = [layer["id"] for layer in style["layers"]]
    assert ids[:2] == ["background", figures.TILES_LAYER]  # under everything we draw
    assert "token" not in json.dumps(style).lower()


def test_offline007_station_names_read_on_every_wall_and_stay_modest_on_pages():
    # The wall's smallest text at 1080p is 13 px; a 4K wall's map is twice as tall.
    sizes = [figures.station_text_px(s) for s in (None, (470, 300), (470, 490), (940, 980))]
    assert all(px >= 13 for px in sizes)
    assert sizes[3] >= 1.8 * sizes[2] >= 1.8 * 13
    assert figures.station_text_px((8000, 8000)) <= 36
    assert figures.station_text_px((940, 980), wall=False) == 13


@pytest.fixture(params=[None, TILE_URL], ids=["no-tiles", "tiles"])
def tiles_app(request, db_url, monkeypatch) -> Iterator[tuple[str, str | None]]:
    """The small district as the app's database, with or without the tile setting."""
    monkeypatch.setenv("DASHBOARD_MAP_TILE_URL", request.param or "")
    for url in use_as_app_database(db_url, monkeypatch):
        yield url, request.param


def test_offline008_every_map_carries_the_tiles_only_when_set(tiles_app, monkeypatch):
    from callbacks import crowd as crowd_callbacks
    from callbacks import risk, wall

    _, tiles = tiles_app
    monkeypatch.setattr(wall, "utcnow", lambda: NOW)
    store = wall.check_versions(0, None)
    figures_by_map = {
        "wall": wall.refresh_map(store, "en", {"w": 900, "h": 800}),
        "risk": risk.refresh_risk_map(None, {"w": 900, "h": 800}, "en")[0],
        "crowd": crowd_callbacks.refresh_wall_crowd(store, "en", {"w": 400, "h": 520})[0],
        "registers": wall.refresh_register_map(store, {"w": 300, "h": 280}, None)[0],
    }
    for name, fig in figures_by_map.items():
        style = fig["layout"]["map"]["style"]
        assert _fetched(style) == ([tiles] if tiles else []), name
        assert "glyphs" not in style and "sprite" not in style
        if tiles:
            assert style["layers"][1]["id"] == figures.TILES_LAYER, name
        else:
            assert "http" not in json.dumps(fig, default=str), name
    # The small district's three stations, on the district maps (names: Chinese, there
    # is no English one), the choropleths under them.
    for name in ("wall", "risk", "crowd"):
        fig = figures_by_map[name]
        source = fig["layout"]["map"]["style"]["sources"]["stations"]["data"]
        assert sorted(f["properties"]["name"] for f in source["features"]) == [
            "乙站",
            "外站",
            "甲站",
        ], name
        assert fig["data"][0]["below"] == figures.STATIONS_LAYER
    # The wall's crowd panel is small: station circles, no names over the cells.
    crowd_ids = [lyr["id"] for lyr in figures_by_map["crowd"]["layout"]["map"]["style"]["layers"]]
    assert figures.STATION_NAMES_LAYER not in crowd_ids


# --------------------------------------------------------------------------- in the browser

# Every host name resolves to nothing, except 127.0.0.1: a request to the internet fails at
# once, and the performance log still records that the page tried.
OFFLINE_ARG = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"

# The map in ``selector`` has drawn: its fills, its stations' circles and names on screen,
# and the stations inside its view (to compare with the circles).
MAP_JS = """
const gd = document.querySelector(arguments[0] + ' .js-plotly-plot');
const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
if (!sub || !sub.map || !sub.map.loaded() || !sub.map.isStyleLoaded()) return null;
const map = sub.map;
const fills = map.queryRenderedFeatures().filter(f => f.layer.id.endsWith('-fill')).length;
const ids = map.getStyle().layers.map(l => l.id);
const on = (id) => ids.includes(id) ? map.queryRenderedFeatures({layers: [id]}) : [];
const circles = [...new Set(on(arguments[1]).map(f => f.properties.name))];
const names = [...new Set(on(arguments[2]).map(f => f.properties.name))];
const b = map.getBounds();
return {fills: fills, circles: circles, names: names, ids: ids, zoom: map.getZoom(),
        bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
        first: gd.data[0].type};
"""


def _map_state(driver, selector: str) -> dict | None:
    return driver.execute_script(
        MAP_JS, selector, figures.STATIONS_LAYER, figures.STATION_NAMES_LAYER
    )


# Any map's view, once its style has loaded: its layers, zoom and bounds.
VIEW_JS = """
const gd = document.querySelector(arguments[0] + ' .js-plotly-plot');
const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
if (!sub || !sub.map || !sub.map.loaded() || !sub.map.isStyleLoaded()) return null;
const b = sub.map.getBounds();
return {ids: sub.map.getStyle().layers.map(l => l.id), zoom: sub.map.getZoom(),
        bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]};
"""


def _wait_map(driver, selector: str, *, fills: int, names: bool = True) -> dict:
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        state = _map_state(driver, selector)
        if state and state["fills"] > fills and state["circles"] and (state["names"] or not names):
            return state
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for the map {selector}: {_map_state(driver, selector)}")


def _stations(url: str) -> list[tuple[str, str, float, float]]:
    with session_scope(url) as s:
        rows = s.execute(select(Station.name, Station.kind, Station.geom)).all()
    return [(name, kind, float(geom.x), float(geom.y)) for name, kind, geom in rows]


def _inside(stations, bounds, margin: float = 0.002) -> set[str]:
    """Station names well inside a map's view (a circle on the very edge may be cut)."""
    west, south, east, north = bounds
    return {
        name
        for name, _, lon, lat in stations
        if west + margin < lon < east - margin and south + margin < lat < north - margin
    }


@pytest.fixture(scope="module")
def offline_db(tmp_path_factory) -> Iterator[str]:
    """The demo district, scored for a few days, with a day of crowd windows: every map has
    fills to draw. Built once (~20 s) for both apps."""
    _require_browser()
    from dashboard.demo import build_demo, write_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('offline') / 'demo.sqlite3'}"
    migrate.upgrade(url)
    with session_scope(url) as session:
        write_demo(build_demo(), session=session)
    day = (utcnow() + dt.timedelta(hours=8)).date() - dt.timedelta(days=1)
    with session_scope(url) as session:
        write_risk_days(session, last_day=day, days=3)
    with session_scope(url) as session:
        write_crowd_day(session, now=utcnow(), hours=2)
    yield url
    get_engine(url).dispose()


def _serve_app(db_url: str, **env: str):
    """The app in a subprocess on a free port (tests/test_browser.py's ``serve_app``), without an
    inherited tile URL unless the test sets one."""
    drop = () if "DASHBOARD_MAP_TILE_URL" in env else ("DASHBOARD_MAP_TILE_URL",)
    return serve_app(db_url, env, drop=drop)


def _png(size: int = 256) -> bytes:
    """One flat dark-green square as a PNG (a few hundred bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes((20, 60, 40)) * size
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * size, 9))
        + chunk(b"IEND", b"")
    )


class TileServer:
    """An intranet tile server in miniature: the same PNG for any path, every path counted."""

    def __init__(self) -> None:
        tile, paths, lock = _png(), [], threading.Lock()
        self.paths: list[str] = paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                with lock:
                    paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(tile)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(tile)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> TileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RequestLog:
    """Every URL the page asked for (Network.requestWillBeSent in the performance log)."""

    def __init__(self, driver) -> None:
        self.driver, self.urls = driver, []

    def read(self) -> list[str]:
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                self.urls.append(message["params"]["request"]["url"])
        return self.urls

    def outside(self, *allowed: str) -> list[str]:
        return [u for u in self.read() if not u.startswith((*allowed, "data:", "blob:"))]


@pytest.fixture
def offline_browser() -> Iterator:
    with chrome(OFFLINE_ARG, logs={"performance": "ALL", "browser": "ALL"}) as driver:
        # The browser's own start page is not the app's: its requests are not counted.
        driver.get("about:blank")
        driver.get_log("performance")
        yield driver


def _severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _railway(stations) -> str:
    return next(name for name, kind, _, _ in sorted(stations) if kind == "railway")


@pytest.mark.browser
def test_offline009_wall_risk_and_crowd_load_with_every_outside_request_blocked(
    offline_db, offline_browser
):
    driver = offline_browser
    requests = RequestLog(driver)
    stations = _stations(offline_db)
    with _serve_app(offline_db) as base:
        # The resolver really is closed: a page on the internet does not load.
        with pytest.raises(WebDriverException, match="ERR_NAME_NOT_RESOLVED"):
            driver.get("http://example.com/")
        requests.read()
        requests.urls.clear()  # the browser's own start page, and that attempt
        driver.get(base + "/")
        _viewport(driver, 1920, 1080)
        wall = _wait_map(driver, "#wall-map", fills=300)
        assert wall["first"] == "choroplethmap"  # the refresh Patches data[0]: still the fills
        assert figures.TILES_LAYER not in wall["ids"]
        # Every station in view has its circle; names collide, the railway station's wins.
        inside = _inside(stations, wall["bounds"])
        assert len(inside) >= 20
        assert inside <= set(wall["circles"])
        assert _railway(stations) in wall["names"]
        assert len(wall["names"]) >= 8
        # Names no smaller than the wall's smallest text at 1080p (1.2 --u = 13 px).
        text_size = driver.execute_script(
            "return document.querySelector('#wall-map .js-plotly-plot')._fullLayout.map"
            "._subplot.map.getLayoutProperty(arguments[0], 'text-size');",
            figures.STATION_NAMES_LAYER,
        )
        assert text_size[0] == "case" and min(text_size[2:]) >= 13
        # The registers' and crowd panels' maps draw too (circles only on the crowd panel).
        crowd = _wait_map(driver, "#wall-crowd-map", fills=100, names=False)
        assert crowd["names"] == [] and _inside(stations, crowd["bounds"]) <= set(crowd["circles"])
        _wait(
            driver,
            "const gd = document.querySelector('#wall-reg-map .js-plotly-plot');"
            "const s = gd && gd._fullLayout.map && gd._fullLayout.map._subplot;"
            "return s && s.map && s.map.loaded() && gd.data.length === 3;",
            what="the registers' map",
        )
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "offline-wall-1920x1080.png"))
        driver.find_element("css selector", "#wall-map").screenshot(
            str(ARTIFACTS / "offline-wall-map-1920x1080.png")
        )

        driver.get(base + "/risk")
        risk = _wait_map(driver, "#risk-map", fills=300)
        assert _inside(stations, risk["bounds"]) <= set(risk["circles"])
        assert _railway(stations) in risk["names"]

        driver.get(base + "/crowd")
        page = _wait_map(driver, "#crowd-map", fills=100)
        assert _inside(stations, page["bounds"]) <= set(page["circles"])
        assert page["names"]
        driver.save_screenshot(str(ARTIFACTS / "offline-crowd-1920x1080.png"))

        urls = requests.read()
        assert sum(u.startswith(base) for u in urls) > 20  # the log did record the page
        assert requests.outside(base) == []
        assert _severe(driver) == []


def _tile_range(bounds, z: int) -> tuple[range, range]:
    """The XYZ tiles at zoom ``z`` covering ``bounds`` (west, south, east, north), one more
    on each side."""
    west, south, east, north = bounds

    def x(lon: float) -> int:
        return math.floor((lon + 180) / 360 * 2**z)

    def y(lat: float) -> int:
        s = math.sin(math.radians(lat))
        return math.floor((0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * 2**z)

    return range(x(west) - 1, x(east) + 2), range(y(north) - 1, y(south) + 2)


@pytest.mark.browser
def test_offline010_intranet_tiles_come_from_the_configured_server_only(
    offline_db, offline_browser
):
    driver = offline_browser
    requests = RequestLog(driver)
    with (
        TileServer() as tiles,
        _serve_app(
            offline_db,
            DASHBOARD_MAP_TILE_URL=tiles.base + "/{z}/{x}/{y}.png",
            DASHBOARD_MAP_TILE_ATTRIBUTION="© 测试瓦片 <b>",
        ) as base,
    ):
        driver.get(base + "/")
        _viewport(driver, 1920, 1080)
        wall = _wait_map(driver, "#wall-map", fills=300)
        assert wall["ids"][:2] == ["background", figures.TILES_LAYER]
        deadline = time.monotonic() + 20
        while not tiles.paths and time.monotonic() < deadline:
            time.sleep(0.2)
        assert tiles.paths, "no tile was requested"
        # The wall's three maps stand on the tiles: where each looks, and at what zoom.
        views = {"#wall-map": (wall["zoom"], wall["bounds"])}
        for selector in ("#wall-crowd-map", "#wall-reg-map"):
            state = _wait(driver, VIEW_JS.replace("arguments[0]", repr(selector)), what=selector)
            assert state["ids"][:2] == ["background", figures.TILES_LAYER], selector
            views[selector] = (state["zoom"], state["bounds"])
        # Each tile is /z/x/y.png at the zoom MapLibre asks 256-px tiles for (the map's plus
        # one: a map's zoom counts 512-px tiles), within the view of one of the maps.
        paths = list(tiles.paths)
        parsed = [re.fullmatch(r"/(\d+)/(\d+)/(\d+)\.png", p) for p in paths]
        assert all(parsed), paths
        for m in parsed:
            z, x, y = (int(g) for g in m.groups())
            assert any(
                abs(z - (zoom + 1)) <= 0.5 + 1e-9
                and x in _tile_range(bounds, z)[0]
                and y in _tile_range(bounds, z)[1]
                for zoom, bounds in views.values()
            ), (z, x, y, views)
        assert round(wall["zoom"] + 1) in {int(m.group(1)) for m in parsed}
        # The credit, as the plain text it was configured as.
        credit = _wait(
            driver,
            "const el = document.querySelector('#wall-map .maplibregl-ctrl-attrib-inner');"
            "return el && el.textContent;",
            what="the tiles' credit",
        )
        assert "© 测试瓦片 <b>" in credit
        driver.save_screenshot(str(ARTIFACTS / "offline-wall-tiles-1920x1080.png"))
        assert requests.outside(base, tiles.base) == []
        assert any(u.startswith(tiles.base) for u in requests.read())
        assert _severe(driver) == []
