/* The registers page (/registers): clientside callbacks, no request to the server.
 * registers.apply: the rows changed since the last sync, as one AG Grid transaction keyed by
 *   row id: a row that matches the filters updates its row (or is added), one that no longer
 *   matches (or left the caller's scope: then it is only {key, match: false}) is removed.
 *   Changes meant for an earlier full load (sync.load) are ignored. The count of rows and
 *   laggards is kept by the same deltas (O(changed rows), not a walk over 20,000 nodes),
 *   from the full load's n and k. Records how long it all took in window.dashRegisters.
 * registers.search: the quick filter, in the browser.
 * registers.exportRequest: the ids of the rows shown (the grid's virtualRowData: after its
 *   filters, search and sort), for the server to build the file from the database. */
(function () {
  "use strict";
  var state = (window.dashRegisters = window.dashRegisters || { timings: [], applied: [] });

  function countText(count, template) {
    var fmt = function (x) { return x.toLocaleString("en-US"); };
    return (template || "{n} / {k}").replace("{n}", fmt(count.n)).replace("{k}", fmt(count.k));
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    registers: {
      apply: function (changes, gridId, sync) {
        var none = window.dash_clientside.no_update;
        if (!changes || !changes.rows || !changes.rows.length) return [none, none];
        if (!sync || changes.load !== sync.load) return [none, none]; // for an earlier table
        var api = null;
        try {
          api = window.dash_ag_grid.getApi(gridId);
        } catch (e) {
          return [none, none]; // no grid yet: the next full table carries these rows
        }
        var key = changes.key;
        var t0 = performance.now();
        if (!state.count || state.count.load !== sync.load) {
          state.count = { load: sync.load, n: sync.n || 0, k: sync.k || 0 };
        }
        var count = state.count;
        var add = [], update = [], remove = [];
        for (var i = 0; i < changes.rows.length; i++) {
          var row = changes.rows[i];
          var node = api.getRowNode(String(row[key]));
          var was = node && node.data && node.data.lagging ? 1 : 0;
          if (row.match) {
            if (node) {
              update.push(row);
              count.k += (row.lagging ? 1 : 0) - was;
            } else {
              add.push(row);
              count.n += 1;
              count.k += row.lagging ? 1 : 0;
            }
          } else if (node) {
            remove.push(node.data);
            count.n -= 1;
            count.k -= was;
          }
        }
        api.applyTransaction({ add: add, update: update, remove: remove });
        var text = countText(count, sync.count);
        var ms = performance.now() - t0;
        state.timings.push(ms);
        var applied = { seq: changes.seq, add: add.length, update: update.length,
                        remove: remove.length, ms: ms };
        state.applied.push(applied);
        return [applied, text];
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
