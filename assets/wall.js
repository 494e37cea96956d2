/* Clientside callbacks: pure UI, no request to the server.
 * wall.clock: the time and date in the district's time zone (Intl.DateTimeFormat with timeZone),
 * and the age of the newest data (Intl.RelativeTimeFormat), once a second.
 * wall.measure, wall.measureCrowd, wall.measureRegisters, risk.measure, crowd.measure: a map's
 * size in pixels, once, so
 * the server can fit the view.
 * crowd.toggle, crowd.step: play / pause of the /crowd page's time slider. */
(function () {
  "use strict";
  var formats = {};

  function format(locale, tz, kind) {
    var key = locale + "|" + tz + "|" + kind;
    if (!formats[key]) {
      var options = kind === "time"
        ? { timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }
        : { timeZone: tz, year: "numeric", month: "long", day: "numeric", weekday: "long" };
      formats[key] = new Intl.DateTimeFormat(locale, options);
    }
    return formats[key];
  }

  function age(ms, locale) {
    var rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return rtf.format(-s, "second");
    if (s < 3600) return rtf.format(-Math.floor(s / 60), "minute");
    if (s < 86400) return rtf.format(-Math.floor(s / 3600), "hour");
    return rtf.format(-Math.floor(s / 86400), "day");
  }

  function size(id) {
    var el = document.getElementById(id);
    if (!el || !el.clientWidth || !el.clientHeight) return null;
    return { w: el.clientWidth, h: el.clientHeight };
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    wall: {
      clock: function (_n, tz, lang, versions) {
        var locale = lang === "en" ? "en-GB" : "zh-CN";
        tz = tz || "Asia/Shanghai";
        // The server's clock (assets/live.js reads it off each answer): a kiosk PC whose clock
        // drifts must not show a time that disagrees with the stale marks and the banner.
        var live = window.dashboardLive;
        var now = new Date(Date.now() + ((live && live.offsetMs) || 0));
        var newest = "—";
        if (versions && versions.updated_ms) {
          var times = Object.values(versions.updated_ms);
          if (times.length) newest = age(now.getTime() - Math.max.apply(null, times), locale);
        }
        return [format(locale, tz, "time").format(now), format(locale, tz, "date").format(now), newest];
      },
      measure: function () {
        return size("wall-map");
      },
      measureCrowd: function () {
        return size("wall-crowd-map");
      },
      measureRegisters: function () {
        return size("wall-reg-map");
      },
    },
    risk: {
      measure: function () {
        return size("risk-map");
      },
    },
    crowd: {
      measure: function () {
        return size("crowd-map");
      },
      // The timer runs while playing; the button's class shows "pause" then, "play" otherwise.
      toggle: function (_clicks, disabled) {
        var start = disabled !== false; // the timer was stopped: this click plays
        return [!start, start ? "button crowd-play playing" : "button crowd-play"];
      },
      // One window on; after the newest, back to the oldest (24 hours earlier).
      step: function (_n, value, max) {
        if (max === null || max === undefined) return window.dash_clientside.no_update;
        var next = (value === null || value === undefined ? max : value) + 1;
        return next > max ? 0 : next;
      },
    },
  });
})();
