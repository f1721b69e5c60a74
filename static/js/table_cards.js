// Label each cell of the data tables in <main> with its column's heading, so that on a phone
// (portal.css, below 576 px) each row shows as a card of "label: value" lines.
(function () {
  "use strict";

  function columnLabels(table) {
    var head = table.tHead;
    if (!head || !head.rows.length) return null;
    var labels = [];
    var cells = head.rows[head.rows.length - 1].cells;
    for (var i = 0; i < cells.length; i++) {
      var text = cells[i].textContent.replace(/\s+/g, " ").trim();
      for (var span = cells[i].colSpan || 1; span > 0; span--) labels.push(text);
    }
    return labels;
  }

  function labelRows(sections, labels) {
    for (var s = 0; s < sections.length; s++) {
      var rows = sections[s].rows;
      for (var r = 0; r < rows.length; r++) {
        var column = 0;
        var cells = rows[r].cells;
        for (var c = 0; c < cells.length; c++) {
          var cell = cells[c];
          var label = labels[column];
          // A row heading, or a cell spanning the whole row (an empty-list message), is a
          // label of its own.
          var own = cell.tagName === "TH" || cell.colSpan >= labels.length;
          if (label && !own && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", label);
          }
          column += cell.colSpan || 1;
        }
      }
    }
  }

  var tables = document.querySelectorAll("main table");
  for (var t = 0; t < tables.length; t++) {
    var table = tables[t];
    var labels = columnLabels(table);
    if (!labels) continue;
    var sections = Array.prototype.slice.call(table.tBodies);
    if (table.tFoot) sections.push(table.tFoot);
    labelRows(sections, labels);
    table.classList.add("table-cards");
  }
})();
