/* The registers page (/registers): clientside callbacks, no request to the server.
 * registers.apply: the rows changed since the last sync, as one AG Grid transaction keyed by
 *   row id: a row that matches the filters updates its row (or is added), one that no longer
 *   matches is removed. Records how long the grid took in window.dashRegisters.timings (ms).
 * registers.search: the quick filter, in the browser.
 * registers.exportRequest: the ids of the rows shown (the grid's virtualRowData: after its
 *   filters, search and sort), for the server to build the file from the database. */
(function () {
  "use strict";
  var state = (window.dashRegisters = window.dashRegisters || { timings: [], applied: [] });

  function countText(api, template) {
    var n = 0, k = 0;
    api.forEachNode(function (node) {
      n += 1;
      if (node.data && node.data.lagging) k += 1;
    });
    var fmt = function (x) { return x.toLocaleString("en-US"); };
    return (template || "{n} / {k}").replace("{n}", fmt(n)).replace("{k}", fmt(k));
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    registers: {
      apply: function (changes, gridId, sync) {
        var none = window.dash_clientside.no_update;
        if (!changes || !changes.rows) return [none, none];
        var api = null;
        try {
          api = window.dash_ag_grid.getApi(gridId);
        } catch (e) {
          return [none, none]; // no grid yet: the next full table carries these rows
        }
        var key = changes.key;
        var t0 = performance.now();
        var add = [], update = [], remove = [];
        for (var i = 0; i < changes.rows.length; i++) {
          var row = changes.rows[i];
          var node = api.getRowNode(String(row[key]));
          if (row.match) {
            (node ? update : add).push(row);
          } else if (node) {
            remove.push(node.data);
          }
        }
        api.applyTransaction({ add: add, update: update, remove: remove });
        var ms = performance.now() - t0;
        state.timings.push(ms);
        var applied = { seq: changes.seq, add: add.length, update: update.length,
                        remove: remove.length, ms: ms };
        state.applied.push(applied);
        return [applied, countText(api, sync && sync.count)];
      },
      search: function (text, options) {
        return Object.assign({}, options || {}, { quickFilterText: text || "" });
      },
      exportRequest: function (_csv, _xlsx, shown, sync) {
        var ctx = window.dash_clientside.callback_context;
        var trigger = (ctx.triggered_id || (ctx.triggered[0] || {}).prop_id || "") + "";
        if (!sync || !sync.view) return window.dash_clientside.no_update;
        var key = sync.key;
        return {
          format: trigger.indexOf("xlsx") >= 0 ? "xlsx" : "csv",
          register: sync.view.register,
          ids: (shown || []).map(function (row) { return row[key]; }),
          at: Date.now(),
        };
      },
    },
  });
})();
