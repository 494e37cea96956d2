/* The wall's rotation between views, in the browser only: no request to the server.
 *
 * The wall's root (layouts/wall.py view_attrs) carries data-rotate (seconds per view, 0: none),
 * data-views ("overview,risk,crowd") and data-view (the view shown; the server sets the first,
 * so the page mounts in it). Every data-rotate seconds this sets the next view on the root and
 * assets/wall.css lays it out; the header is not touched, so the clock and the freshness stay
 * where they are, the same elements.
 *
 * After a switch the visible plotly graphs are resized (Plotly.Plots.resize), and each visible
 * map is fitted to the district again: the server fitted its zoom once, for the size the map had
 * at mount, and a view makes it larger or smaller (or shows it for the first time). The fit is
 * figures.fit_view's, on the bounds of the map's outline layers, applied with Plotly.relayout so
 * the Graph keeps it in its figure (and the next full figure from the server carries it over).
 * With no rotation nothing here touches a map: the operator's zoom and pan stay theirs.
 */
(function () {
  "use strict";

  var ROOT_ID = "wall-root";
  var TICK_MS = 250;
  var WORLD_PX = 512; // MapLibre's zoom z shows the whole world in 512 * 2**z pixels
  var PADDING = 0.04; // as figures.fit_view

  var state = null;
  var bounds = new WeakMap(); // a figure's layers array -> [west, south, east, north] or null

  function mercatorY(lat) {
    var s = Math.sin((lat * Math.PI) / 180);
    return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
  }

  function extend(box, coords) {
    if (!Array.isArray(coords)) return;
    if (typeof coords[0] === "number") {
      box[0] = Math.min(box[0], coords[0]);
      box[1] = Math.min(box[1], coords[1]);
      box[2] = Math.max(box[2], coords[0]);
      box[3] = Math.max(box[3], coords[1]);
      return;
    }
    for (var i = 0; i < coords.length; i++) extend(box, coords[i]);
  }

  // The district's bounds: the outlines' GeoJSON layers (district, subdistricts, committees).
  function layerBounds(layers) {
    if (!Array.isArray(layers)) return null;
    if (bounds.has(layers)) return bounds.get(layers);
    var box = [Infinity, Infinity, -Infinity, -Infinity];
    layers.forEach(function (layer) {
      var features = layer && layer.source && layer.source.features;
      if (!Array.isArray(features)) return;
      features.forEach(function (f) {
        if (f && f.geometry) extend(box, f.geometry.coordinates);
      });
    });
    var found = isFinite(box[0]) && isFinite(box[1]) ? box : null;
    bounds.set(layers, found);
    return found;
  }

  // figures.fit_view: the centre and zoom that show the bounds whole in w x h pixels.
  function fitView(box, w, h) {
    var usable = 1 - 2 * PADDING;
    var dx = Math.max((box[2] - box[0]) / 360, 1e-9);
    var top = mercatorY(box[3]);
    var bottom = mercatorY(box[1]);
    var dy = Math.max(bottom - top, 1e-9);
    var zoom = Math.log2(Math.min((w * usable) / dx, (h * usable) / dy) / WORLD_PX);
    var mid = (top + bottom) / 2;
    var lat = (Math.atan(Math.sinh(Math.PI * (1 - 2 * mid))) * 180) / Math.PI;
    return { center: { lon: (box[0] + box[2]) / 2, lat: lat }, zoom: Math.round(zoom * 1000) / 1000 };
  }

  function visible(el) {
    return el.getClientRects().length > 0 && el.clientWidth > 0 && el.clientHeight > 0;
  }

  function graphs(root) {
    return Array.prototype.filter.call(root.querySelectorAll(".js-plotly-plot"), visible);
  }

  // Each visible map, once per (view, drawn size, district bounds): fitted to the district.
  function refit(s) {
    if (!window.Plotly) return;
    graphs(s.root).forEach(function (gd) {
      var full = gd._fullLayout;
      if (!full || !full.map || !gd.layout || !gd.layout.map || gd.__wallResizing) return;
      // A relayout while MapLibre is still loading the style (a new map, a new figure) throws
      // "Style is not done loading": wait for it.
      var sub = full.map._subplot;
      if (sub && sub.map && !sub.map.isStyleLoaded()) return;
      // By value, not by the layers' identity: the Graph copies its layout into a new figure
      // after each relayout, and a new figure from the server keeps the view fitted here.
      var box = layerBounds(gd.layout.map.layers);
      if (!box) return;
      var key = [s.views[s.index], full.width, full.height].concat(box).join("|");
      if (gd.__wallFit === key) return;
      var view = fitView(box, full.width, full.height);
      gd.__wallFit = key;
      window.Plotly.relayout(gd, { "map.center": view.center, "map.zoom": view.zoom }).catch(
        function () {
          gd.__wallFit = null; // try again next tick
        }
      );
    });
  }

  function show(s, now) {
    s.root.setAttribute("data-view", s.views[s.index]);
    s.next = now + s.seconds * 1000;
    if (!window.Plotly) return;
    graphs(s.root).forEach(function (gd) {
      gd.__wallResizing = true;
      window.Plotly.Plots.resize(gd)
        .catch(function () {})
        .then(function () {
          gd.__wallResizing = false;
        });
    });
  }

  function begin(root) {
    var views = (root.getAttribute("data-views") || "").split(",").filter(Boolean);
    var seconds = parseInt(root.getAttribute("data-rotate"), 10) || 0;
    return {
      root: root,
      views: views,
      seconds: seconds,
      index: Math.max(0, views.indexOf(root.getAttribute("data-view"))),
      rotating: seconds > 0 && views.length > 1,
      next: Date.now() + seconds * 1000,
    };
  }

  function tick() {
    var root = document.getElementById(ROOT_ID);
    if (!root) {
      state = null;
      return;
    }
    if (!state || state.root !== root) state = begin(root);
    if (!state.rotating) return;
    var now = Date.now();
    if (now >= state.next) {
      state.index = (state.index + 1) % state.views.length;
      show(state, now);
    }
    refit(state);
  }

  setInterval(tick, TICK_MS);
})();
