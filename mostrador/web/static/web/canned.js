// Canned replies in the reply box. The "Canned replies" button (or "/" outside a field) opens a
// searchable list; "/" typed at the start of a word in the reply suggests replies by shortcut
// right there, like @mentions in notes. The chosen reply comes back rendered for this
// conversation (POST, CSRF token) and is inserted at the cursor, for the agent to edit.
(function () {
  "use strict";

  var items = null;       // [{id, title, shortcut, shared, languages}] once loaded
  var loading = null;     // the pending request for them
  var shown = [];         // the items the list shows now
  var active = 0;
  var mode = "";          // "", "search" (the panel's field) or "inline" ("/" in the reply)
  var range = null;       // {start, end}: what the inserted text replaces
  var SLASH = /(^|\s)\/([^\s\/]*)$/;

  function box() { return document.querySelector(".canned"); }
  function el(id) { return document.getElementById(id); }
  function text(name) { var b = box(); return b ? b.getAttribute("data-text-" + name) || "" : ""; }
  function area() { var b = box(); return b ? el(b.getAttribute("data-for")) : null; }
  function fold(value) {
    return (value || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function status(message) {
    var line = el("canned-status");
    if (line) { line.textContent = message; }
  }

  function load(fresh) {
    if (items && !fresh) { return Promise.resolve(items); }
    if (loading) { return loading; }
    var b = box();
    if (!b) { return Promise.resolve([]); }
    loading = fetch(b.getAttribute("data-list-url"), {
      headers: { "Accept": "application/json" }, credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      items = data.items || [];
      return items;
    }).finally(function () { loading = null; });
    return loading;
  }

  // Shortcut starting with the query first, then title starting with it, then anywhere.
  function matches(query) {
    var q = fold(query);
    var ranked = [];
    (items || []).forEach(function (item) {
      var shortcut = fold(item.shortcut), title = fold(item.title), rank = -1;
      if (!q) { rank = 2; }
      else if (shortcut && shortcut.indexOf(q) === 0) { rank = 0; }
      else if (title.indexOf(q) === 0 || title.indexOf(" " + q) >= 0) { rank = 1; }
      else if (title.indexOf(q) >= 0 || shortcut.indexOf(q) >= 0) { rank = 2; }
      if (rank >= 0) { ranked.push({ rank: rank, item: item }); }
    });
    ranked.sort(function (a, b) { return a.rank - b.rank; });
    return ranked.slice(0, 50).map(function (entry) { return entry.item; });
  }

  function owner() { return mode === "inline" ? area() : el("canned-search"); }

  function renderList() {
    var list = el("canned-list");
    if (!list) { return; }
    list.replaceChildren();
    shown.forEach(function (item, index) {
      var option = document.createElement("li");
      option.id = "canned-option-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", index === active ? "true" : "false");
      option.appendChild(document.createTextNode(item.title));
      if (item.shortcut) {
        var shortcut = document.createElement("span");
        shortcut.className = "canned-shortcut";
        shortcut.textContent = "/" + item.shortcut;
        option.appendChild(shortcut);
      }
      var languages = document.createElement("span");
      languages.className = "canned-languages";
      languages.textContent = item.languages.join(" · ").toUpperCase();
      option.appendChild(languages);
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();
        pick(index);
      });
      list.appendChild(option);
    });
    var field = owner();
    if (field) {
      field.setAttribute("aria-expanded", shown.length ? "true" : "false");
      if (shown.length) {
        field.setAttribute("aria-activedescendant", "canned-option-" + active);
        var current = el("canned-option-" + active);
        if (current && current.scrollIntoView) { current.scrollIntoView({ block: "nearest" }); }
      } else {
        field.removeAttribute("aria-activedescendant");
      }
    }
  }

  function filter(query) {
    shown = matches(query);
    active = 0;
    renderList();
    if (mode === "search") {
      status(items && !items.length ? text("none") : shown.length ? "" : text("empty"));
    }
  }

  function showPanel(how) {
    var panel = el("canned-panel"), button = document.querySelector(".canned-toggle");
    if (!panel) { return; }
    mode = how;
    panel.hidden = false;
    panel.querySelector(".canned-search").hidden = how !== "search";
    if (button) { button.setAttribute("aria-expanded", how === "search" ? "true" : "false"); }
    var reply = area();
    if (reply && how === "inline") {
      reply.setAttribute("aria-controls", "canned-list");
      reply.setAttribute("aria-autocomplete", "list");
    }
  }

  function close(refocus) {
    var panel = el("canned-panel"), button = document.querySelector(".canned-toggle");
    var reply = area(), wasSearch = mode === "search";
    if (panel) { panel.hidden = true; }
    if (button) { button.setAttribute("aria-expanded", "false"); }
    if (reply) {
      reply.removeAttribute("aria-activedescendant");
      reply.setAttribute("aria-expanded", "false");
    }
    var list = el("canned-list");
    if (list) { list.replaceChildren(); }
    shown = [];
    mode = "";
    if (refocus && wasSearch && reply) {
      reply.focus();
      if (range) { reply.setSelectionRange(range.start, range.end); }
    }
  }

  function openSearch() {
    var reply = area(), field = el("canned-search");
    if (!reply || !field) { return; }
    range = { start: reply.selectionStart, end: reply.selectionEnd };
    showPanel("search");
    field.value = "";
    field.focus();
    status(text("loading"));
    load(true).then(function () { if (mode === "search") { filter(field.value); } })
      .catch(function () { status(text("failed")); });
  }

  function updateInline(reply) {
    var before = reply.value.slice(0, reply.selectionStart);
    var match = SLASH.exec(before);
    if (!match || reply.selectionStart !== reply.selectionEnd) {
      if (mode === "inline") { close(false); }
      return;
    }
    var query = match[2];
    load(false).then(function () {
      // The agent may have typed on while the list was loading: read the box again.
      var again = SLASH.exec(reply.value.slice(0, reply.selectionStart));
      if (!again || again[2] !== query) { return; }
      range = { start: reply.selectionStart - query.length - 1, end: reply.selectionStart };
      showPanel("inline");
      filter(query);
      if (!shown.length) { close(false); }
    }).catch(function () { /* the button still works and reports the failure */ });
  }

  function csrfToken() {
    var reply = area();
    var input = reply && reply.form && reply.form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function pick(index) {
    var item = shown[index], reply = area(), b = box();
    if (!item || !reply || !b || !range) { return; }
    var target = range;
    close(false);
    reply.focus();
    var url = b.getAttribute("data-render-url").replace(/\/0\/render\/$/, "/" + item.id + "/render/");
    fetch(url, {
      method: "POST", credentials: "same-origin", body: new FormData(),
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.detail || text("failed")); }
        return data;
      });
    }).then(function (data) {
      var current = area();
      if (!current) { return; }
      var start = Math.min(target.start, current.value.length);
      var end = Math.min(target.end, current.value.length);
      current.setRangeText(data.text, start, end, "end");
      current.focus();
      // Functions as replacements: a "$&" in a title is text, not a pattern.
      status(text("inserted")
        .replace("{title}", function () { return item.title; })
        .replace("{language}", function () { return data.language_name || data.language; }));
    }).catch(function (error) {
      status(error && error.message ? error.message : text("failed"));
    });
  }

  function move(step) {
    if (!shown.length) { return; }
    active = (active + step + shown.length) % shown.length;
    renderList();
  }

  function typing(target) {
    return Boolean(target && target.closest &&
      target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]"));
  }

  // Capture phase: runs before the page's own shortcuts (which blur a field on Esc).
  document.addEventListener("keydown", function (event) {
    var target = event.target, reply = area();
    var inList = (mode === "inline" && target === reply && shown.length) ||
      (mode === "search" && target === el("canned-search"));
    if (inList) {
      var handled = true;
      if (event.key === "ArrowDown") { move(1); }
      else if (event.key === "ArrowUp") { move(-1); }
      else if (event.key === "Enter" || (event.key === "Tab" && mode === "inline")) {
        if (shown.length) { pick(active); } else { handled = mode === "search"; }
      }
      else if (event.key === "Escape") { close(true); }
      else { handled = false; }
      if (handled) {
        event.preventDefault();
        event.stopPropagation();
      }
      return;
    }
    if (event.key === "/" && !typing(target) && !event.ctrlKey && !event.metaKey &&
        !event.altKey && box() && !box().hidden) {
      var tab = el("tab-reply");
      if (tab && tab.getAttribute("aria-selected") !== "true") { tab.click(); }
      event.preventDefault();
      event.stopPropagation();
      openSearch();
    }
  }, true);

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target === el("canned-search")) { filter(target.value); return; }
    if (target === area()) { updateInline(target); }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".canned-toggle");
    if (!button) { return; }
    if (mode === "search") { close(true); } else { openSearch(); }
  });

  // Leaving the reply (inline) or the whole picker (search) closes the list.
  document.addEventListener("focusout", function (event) {
    if (!mode) { return; }
    var next = event.relatedTarget, b = box();
    if (mode === "inline" && event.target === area()) { close(false); return; }
    if (mode === "search" && b && b.contains(event.target) && !(next && b.contains(next))) {
      close(false);
    }
  });

  // The reply box is re-rendered after each send (htmx, out of band): show the new picker.
  function reveal() {
    var b = box();
    if (b && b.hidden) { b.hidden = false; mode = ""; shown = []; }
  }
  document.body.addEventListener("htmx:oobAfterSwap", reveal);
  document.body.addEventListener("htmx:afterSettle", reveal);
  reveal();
})();
