/* Keeps a page live for weeks: the wall screen and the leaders' pages (Dash serves every asset
 * on every page; a page without a #live-config element is left alone).
 *
 * Once per tick (the page's refresh interval) it fetches /api/v1/live, one request at a time,
 * with a timeout:
 * - on success it hides the "connection lost" banner and advances the page's own ticks (their
 *   dcc.Interval components are disabled; set_props moves n_intervals), so the page's callbacks
 *   run only when the server answers, and never while the previous tick's callbacks are still
 *   in flight: a slow server gets no pile of requests;
 * - on failure it keeps the page as it is (the last good frame: nothing is cleared, no popup)
 *   and shows "connection lost since 14:05" until a check succeeds again; the next tick after
 *   the server returns brings the page up to date, with no reload;
 * - when the answer names another build than the one that rendered the page (a redeploy), or
 *   the page has been open longer than reload_ms, it reloads the page, after making sure the
 *   page itself can be fetched (a reload into an error page would never come back).
 *
 * Once a second it marks stale every element whose data-datasets names a dataset older than
 * twice its expected interval (or expected and never written), with data-stale="<label>", and
 * writes the late datasets into the [data-live=status] elements. It uses the server's clock
 * (the Date header) and keeps marking while the server is unreachable: stale is never shown as
 * fresh. The rule is dashboard/freshness.py's.
 *
 * window.dashboardLive exposes the state for tests and the soak benchmark.
 */
(function () {
  "use strict";

  var LATE_FACTOR = 2;
  var RELOAD_GUARD_MS = 60000; // never reload twice within a minute (a half-rolled deploy)
  var BUSY_LIMIT = 3; // after this many timeouts of busy callbacks, tick anyway
  var NO_PAGE_MS = 30000; // no #live-config this long after loading: the page did not render
  var IDLE_BEFORE_RELOAD_MS = 120000; // on a page someone is using, reload only after this idle

  var live = {
    configText: null,
    config: null,
    build: null, // the build of the first page this document rendered (kept across dcc.Link)
    openedAt: performance.now(),
    lastInput: -Infinity,
    offsetMs: 0, // server clock minus browser clock
    updated: null, // dataset -> last write (ms, server clock); null before the first answer
    expected: {},
    lostSince: null, // browser time of the first failed check in a row
    busySince: null,
    checks: 0,
    failures: 0,
    ticks: {},
    reloading: false,
    lastCheckMs: null,
    inFlight: 0,
    maxInFlight: 0,
    checkStarts: [], // performance.now() of the last checks, for tests
  };
  window.dashboardLive = live;

  var timeFormats = {};

  function hhmm(ms, cfg) {
    var key = cfg.locale + "|" + cfg.tz;
    if (!timeFormats[key]) {
      timeFormats[key] = new Intl.DateTimeFormat(cfg.locale, {
        timeZone: cfg.tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      });
    }
    return timeFormats[key].format(new Date(ms));
  }

  function readConfig() {
    var el = document.getElementById("live-config");
    var text = el && el.getAttribute("data-config");
    if (!text) return null;
    if (text !== live.configText) {
      // A new page (first load, or dcc.Link navigation): its own ticks and build.
      live.configText = text;
      live.config = JSON.parse(text);
      if (live.build === null) live.build = live.config.build;
      live.ticks = {};
    }
    return live.config;
  }

  function dashBusy() {
    var store = window.store;
    var state = store && store.getState && store.getState();
    return !!(state && state.isLoading);
  }

  function all(selector) {
    return Array.prototype.slice.call(document.querySelectorAll(selector));
  }

  // ------------------------------------------------------------------ connection

  function showLost(cfg) {
    if (live.lostSince === null) live.lostSince = Date.now();
    var text = cfg.text.lost.replace("{time}", hhmm(live.lostSince + live.offsetMs, cfg));
    document.documentElement.setAttribute("data-connection", "lost");
    all("[data-live=banner]").forEach(function (el) {
      if (el.textContent !== text) el.textContent = text;
      el.hidden = false;
    });
  }

  function showConnected() {
    live.lostSince = null;
    document.documentElement.removeAttribute("data-connection");
    all("[data-live=banner]").forEach(function (el) {
      el.hidden = true;
    });
  }

  // A reload for a new build is kept to one a minute (a half-rolled deploy answers with two
  // builds in turn); the periodic one cannot loop (the reloaded page starts a new period).
  function reload(cfg, forBuild) {
    var last = Number(sessionStorage.getItem("dashboard-live-reload") || 0);
    if (live.reloading || (forBuild && Date.now() - last < RELOAD_GUARD_MS)) return;
    // Someone is using the page (what-if weights, filters): wait until they leave it alone.
    if (performance.now() - live.lastInput < IDLE_BEFORE_RELOAD_MS) return;
    live.reloading = true;
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, cfg.timeout_ms);
    fetch(window.location.href, { cache: "no-store", signal: controller.signal })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        sessionStorage.setItem("dashboard-live-reload", String(Date.now()));
        window.location.reload();
      })
      .catch(function () {
        live.reloading = false; // try again at a later check
        showLost(cfg);
      })
      .finally(function () {
        clearTimeout(timer);
      });
  }

  function check(cfg) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, cfg.timeout_ms);
    var started = performance.now();
    live.inFlight += 1;
    live.maxInFlight = Math.max(live.maxInFlight, live.inFlight);
    live.checkStarts.push(started);
    if (live.checkStarts.length > 100) live.checkStarts.shift();
    return fetch(cfg.url, {
      cache: "no-cache", // revalidate: an unchanged answer is an empty 304
      signal: controller.signal,
      headers: { Accept: "application/json" },
    })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        var date = Date.parse(r.headers.get("Date") || "");
        return r.json().then(function (body) {
          if (!isNaN(date)) live.offsetMs = date + 500 - Date.now(); // the header has seconds
          return body;
        });
      })
      .then(function (body) {
        live.checks += 1;
        live.lastCheckMs = performance.now() - started;
        live.updated = body.updated_ms || {};
        live.expected = body.expected_s || {};
        showConnected();
        mark(cfg);
        var newBuild = body.build !== live.build;
        if (newBuild || performance.now() - live.openedAt > cfg.reload_ms) {
          reload(cfg, newBuild);
          return false;
        }
        return true;
      })
      .catch(function () {
        live.failures += 1;
        showLost(cfg);
        return false;
      })
      .finally(function () {
        live.inFlight -= 1;
        clearTimeout(timer);
      });
  }

  // Advance the ticks of the page shown now (a dcc.Link may have replaced the page while the
  // check was in flight: its ticks are not in the layout any more).
  function advance() {
    var cfg = readConfig();
    var setProps = window.dash_clientside && window.dash_clientside.set_props;
    var state = window.store && window.store.getState && window.store.getState();
    var known = state && state.paths && state.paths.strs;
    if (!cfg || !setProps || !known) return;
    cfg.ticks.forEach(function (id) {
      if (!known[id]) return;
      live.ticks[id] = (live.ticks[id] || 0) + 1;
      try {
        setProps(id, { n_intervals: live.ticks[id] });
      } catch (e) {
        // the next check tries again; the loop must go on whatever happens here
      }
    });
  }

  function schedule(ms) {
    clearTimeout(live.timer);
    live.timer = setTimeout(cycle, Math.max(0, ms));
  }

  // The page never rendered (the server went down between the HTML and the layout, a bad
  // deploy): once the server answers again, reload, at most once a minute.
  function noPage() {
    if (performance.now() - live.openedAt < NO_PAGE_MS) return schedule(200);
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, 10000);
    fetch(window.location.href, { cache: "no-store", signal: controller.signal })
      .then(function (r) {
        var last = Number(sessionStorage.getItem("dashboard-live-reload") || 0);
        if (r.ok && Date.now() - last >= RELOAD_GUARD_MS) {
          sessionStorage.setItem("dashboard-live-reload", String(Date.now()));
          window.location.reload();
        }
      })
      .catch(function () {})
      .finally(function () {
        clearTimeout(timer);
        schedule(NO_PAGE_MS / 3);
      });
  }

  function cycle() {
    var cfg = readConfig();
    if (!cfg) return noPage();
    // The previous tick's callbacks are still running: wait for them, up to a timeout, after
    // which the connection is checked anyway (a hung server still shows the banner), and up to
    // BUSY_LIMIT timeouts, after which the page ticks anyway (a callback hung on a half-open
    // connection must not freeze the page; Dash drops a superseded callback's answer).
    var busy = dashBusy();
    if (!busy) live.busySince = null;
    else if (live.busySince === null) live.busySince = performance.now();
    var busyFor = busy ? performance.now() - live.busySince : 0;
    if (busy && busyFor < cfg.timeout_ms) return schedule(250);
    var hold = busy && busyFor < BUSY_LIMIT * cfg.timeout_ms;
    var started = performance.now();
    check(cfg)
      .then(function (ok) {
        if (ok && !hold) advance();
      })
      .finally(function () {
        schedule(cfg.interval_ms - (performance.now() - started));
      });
  }

  // ------------------------------------------------------------------ staleness

  function lateDatasets() {
    var now = Date.now() + live.offsetMs;
    return Object.keys(live.expected)
      .filter(function (name) {
        var at = live.updated[name];
        return at === undefined || now - at > LATE_FACTOR * 1000 * live.expected[name];
      })
      .sort();
  }

  function mark(cfg) {
    if (!cfg || live.updated === null) return; // nothing known yet: mark nothing
    var late = lateDatasets();
    var lateSet = {};
    late.forEach(function (name) { lateSet[name] = true; });
    var label = function (name) { return cfg.labels[name] || name; };
    all("[data-datasets]").forEach(function (el) {
      var mine = el.getAttribute("data-datasets").split(",").filter(function (n) {
        return lateSet[n];
      });
      if (mine.length) {
        if (el.getAttribute("data-stale") !== cfg.text.stale) {
          el.setAttribute("data-stale", cfg.text.stale);
        }
        var title = cfg.text.stale_title.replace(
          "{names}", mine.map(label).join(cfg.text.separator));
        if (el.title !== title) el.title = title;
      } else if (el.hasAttribute("data-stale")) {
        el.removeAttribute("data-stale");
        el.removeAttribute("title");
      }
    });
    var text, state;
    if (late.length) {
      text = cfg.text.late + ": " + late.map(label).join(cfg.text.separator);
      state = "late";
    } else if (Object.keys(live.updated).length) {
      text = cfg.text.on_time;
      state = "ok";
    } else {
      text = cfg.text.no_data;
      state = "late";
    }
    all("[data-live=status]").forEach(function (el) {
      if (el.textContent !== text) el.textContent = text;
      if (el.getAttribute("data-state") !== state) el.setAttribute("data-state", state);
    });
  }

  ["pointerdown", "keydown", "wheel", "input"].forEach(function (type) {
    window.addEventListener(type, function () { live.lastInput = performance.now(); }, true);
  });

  setInterval(function () {
    mark(live.config && document.getElementById("live-config") ? live.config : null);
  }, 1000);
  schedule(0);
})();
