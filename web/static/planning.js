/* /planning: sortable county table (click or Enter/Space on a header button), a "computing" note
 * while the form reloads the page, and the print button. The city-total row stays in <tfoot>.
 * No data is written as HTML: rows are moved, never rebuilt. */
(function () {
  "use strict";

  // ---- table sorting ------------------------------------------------------------------------
  var table = document.getElementById("county-table");
  var status = document.getElementById("sort-status");
  if (table) {
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var body = table.tBodies[0];
    var collator = new Intl.Collator(document.documentElement.lang || "zh-CN", { numeric: true });

    function key(row, index, numeric) {
      var text = row.cells[index].getAttribute("data-sort");
      if (text === null) text = row.cells[index].textContent.trim();
      if (!numeric) return text;
      return text === "" ? null : Number(text);
    }

    function sortBy(index) {
      var th = heads[index];
      var numeric = th.getAttribute("data-type") === "number";
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      var rows = Array.prototype.slice.call(body.rows);
      var order = rows.map(function (row, i) { return { row: row, key: key(row, index, numeric), i: i }; });
      order.sort(function (a, b) {
        if (a.key === null && b.key === null) return a.i - b.i;
        if (a.key === null) return 1;   // figures that are missing go last either way
        if (b.key === null) return -1;
        var c = numeric ? a.key - b.key : collator.compare(a.key, b.key);
        if (c === 0) return a.i - b.i;
        return ascending ? c : -c;
      });
      order.forEach(function (o) { body.appendChild(o.row); });
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      if (status) {
        var label = th.textContent.trim();
        var template = table.getAttribute(ascending ? "data-sort-asc" : "data-sort-desc") || "{col}";
        status.textContent = template.replace("{col}", label);
      }
    }

    heads.forEach(function (th, index) {
      var button = th.querySelector("button.sort");
      if (button) button.addEventListener("click", function () { sortBy(index); });
    });
  }

  // ---- the form: say that the analysis is being computed (new sites take a few seconds) ------
  var form = document.getElementById("controls");
  var busy = document.getElementById("busy");
  if (form && busy) {
    form.addEventListener("submit", function () {
      form.setAttribute("aria-busy", "true");
      busy.textContent = busy.getAttribute("data-text") || "…";
    });
    window.addEventListener("pageshow", function () {  // back/forward cache: clear the note
      form.removeAttribute("aria-busy");
      busy.textContent = "";
    });
  }

  // ---- print ------------------------------------------------------------------------------
  var printButton = document.getElementById("print-report");
  if (printButton && window.print) {
    printButton.hidden = false;
    printButton.addEventListener("click", function () { window.print(); });
  }
}());
