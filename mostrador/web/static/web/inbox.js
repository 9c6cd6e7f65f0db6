// The inbox: select rows for bulk actions, fold the filters on small screens, and keep focus
// in a sensible place when htmx replaces the list.
(function () {
  "use strict";

  function rowBoxes(scope) {
    return Array.prototype.slice.call(scope.querySelectorAll("input[name=ids]"));
  }

  function refreshSelection(form) {
    if (!form) { return; }
    var boxes = rowBoxes(form);
    var checked = boxes.filter(function (box) { return box.checked; });
    boxes.forEach(function (box) {
      var row = box.closest("tr");
      if (row) { row.classList.toggle("selected", box.checked); }
    });
    var all = form.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && checked.length === boxes.length;
      all.indeterminate = checked.length > 0 && checked.length < boxes.length;
    }
    var count = form.querySelector("[data-selected-count]");
    if (count) {
      var template = count.getAttribute("data-template") || "({n})";
      count.textContent = checked.length ? template.replace("{n}", checked.length) : "";
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.matches) { return; }
    var form = target.closest("#bulk-form");
    if (!form) { return; }
    if (target.matches("[data-select-all]")) {
      rowBoxes(form).forEach(function (box) { box.checked = target.checked; });
    }
    refreshSelection(form);
  });

  // Shift-click selects the range since the last clicked box, as mail clients do.
  var lastClicked = null;
  document.addEventListener("click", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("#bulk-form input[name=ids]")) { return; }
    if (event.shiftKey && lastClicked && lastClicked !== box && document.contains(lastClicked)) {
      var boxes = rowBoxes(box.form);
      var from = boxes.indexOf(lastClicked);
      var to = boxes.indexOf(box);
      if (from >= 0 && to >= 0) {
        boxes.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (b) {
          b.checked = box.checked;
        });
        refreshSelection(box.form);
      }
    }
    lastClicked = box;
  });

  // Filters and bulk actions stay open on wide screens and fold away on narrow ones.
  function foldOnNarrowScreens() {
    if (!window.matchMedia("(max-width: 640px)").matches) { return; }
    // The tabs scroll sideways: bring the current one into sight.
    var tabs = document.querySelector(".inbox-tabs ul");
    var current = tabs && tabs.querySelector("a[aria-current]");
    if (current) { tabs.scrollLeft = current.offsetLeft - tabs.offsetLeft - 16; }
    document.querySelectorAll("details[data-fold-narrow]").forEach(function (details) {
      details.open = false;
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", foldOnNarrowScreens);
  } else {
    foldOnNarrowScreens();
  }

  // After a bulk action focus goes to its result; after a page change, to the list heading.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!document.getElementById("inbox-list")) { return; }
    var kept = document.querySelector("#inbox-list details.bulk-details");
    if (kept && window.matchMedia("(max-width: 640px)").matches && !kept.querySelector("[aria-invalid], .errorlist")) {
      kept.open = false;
    }
    refreshSelection(document.getElementById("bulk-form"));
    var result = document.querySelector("#inbox-list [data-focus-after-swap]");
    var trigger = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (result) {
      result.focus();
    } else if (trigger && trigger.closest && trigger.closest(".pager")) {
      var heading = document.getElementById("inbox-heading");
      if (heading) { heading.focus(); }
    }
  });
})();
