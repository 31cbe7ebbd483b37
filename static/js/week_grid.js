/* Week grid editor: click (or touch) and drag across the half-hour checkboxes to paint them.
 * Optional: without it the grid is a table of ordinary checkboxes (Tab + Space). No framework. */
(function () {
  "use strict";

  function enhance(table) {
    var painting = false;
    var value = false;
    var painted = false;

    function checkboxAt(x, y) {
      var element = document.elementFromPoint(x, y);
      var cell = element && element.closest("td");
      return cell && table.contains(cell) ? cell.querySelector("input[type=checkbox]") : null;
    }

    table.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      var input = checkboxAt(event.clientX, event.clientY);
      if (!input) return;
      event.preventDefault(); // no text selection, no scrolling while painting
      painting = true;
      painted = true;
      value = !input.checked;
      input.checked = value;
      input.focus({ preventScroll: true });
    });

    table.addEventListener("pointermove", function (event) {
      if (!painting) return;
      var input = checkboxAt(event.clientX, event.clientY);
      if (input) input.checked = value;
    });

    document.addEventListener("pointerup", function () { painting = false; });
    document.addEventListener("pointercancel", function () { painting = false; });

    // The click that ends a pointer stroke would toggle its checkbox back: keep the painted value.
    table.addEventListener("click", function (event) {
      if (painted && event.target.matches("input[type=checkbox]")) event.preventDefault();
      painted = false;
    });
  }

  document.querySelectorAll("table.cal-grid[data-editable]").forEach(enhance);
})();
