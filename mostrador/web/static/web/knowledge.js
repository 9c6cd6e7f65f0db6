// The knowledge base in the reply box. The "Knowledge base" button (or "b" outside a field)
// opens a panel that searches published articles, internal ones included; with nothing typed
// it suggests articles for the conversation. Each result inserts, at the reply's cursor, its
// public link (public articles only: customers cannot open internal ones) or its text.
(function () {
  "use strict";

  var range = null;       // {start, end} of the reply's selection when the panel opened
  var items = [];         // the results shown now
  var asked = 0;          // number of the latest search, so a slow answer cannot overwrite it
  var timer = null;

  function box() { return document.querySelector(".kb"); }
  function el(id) { return document.getElementById(id); }
  function text(name) { var b = box(); return b ? b.getAttribute("data-text-" + name) || "" : ""; }
  function area() { var b = box(); return b ? el(b.getAttribute("data-for")) : null; }
  function panel() { return el("kb-panel"); }
  function isOpen() { var p = panel(); return Boolean(p && !p.hidden); }
  // Functions as replacements: a "$&" in a title is text, not a pattern.
  function fill(template, name, value) {
    return template.replace("{" + name + "}", function () { return value; });
  }

  function status(message) {
    var line = el("kb-status");
    if (line) { line.textContent = message; }
  }

  function getJSON(url) {
    return fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) { throw new Error(data.detail || String(response.status)); }
          return data;
        });
      });
  }

  // --- searching ------------------------------------------------------------------------------

  function search(query) {
    var b = box();
    if (!b) { return; }
    var number = ++asked;
    var url = b.getAttribute("data-search-url");
    if (query) { url += "?q=" + encodeURIComponent(query); }
    status(text("loading"));
    getJSON(url).then(function (data) {
      if (number !== asked || !isOpen()) { return; }
      items = data.items || [];
      var heading = el("kb-heading");
      if (heading) {
        heading.textContent = data.suggested ? text("suggested")
          : fill(text("results"), "query", data.query || query);
      }
      render();
      status(items.length ? "" : text("empty"));
    }).catch(function (error) {
      if (number !== asked) { return; }
      status(error && error.message && !/^\d+$/.test(error.message) ? error.message : text("failed"));
    });
  }

  function searchSoon(query) {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { search(query.trim()); }, 300);
  }

  function button(label, name, item, cls) {
    var node = document.createElement("button");
    node.type = "button";
    node.className = "btn btn-small " + cls;
    node.textContent = label;
    node.setAttribute("aria-label", fill(text(name + "-label"), "title", item.title));
    node.addEventListener("click", function () { insert(item, name); });
    return node;
  }

  function render() {
    var list = el("kb-results");
    if (!list) { return; }
    list.replaceChildren();
    items.forEach(function (item) {
      var entry = document.createElement("li");
      entry.className = "kb-result" + (item.internal ? " kb-result-internal" : "");
      entry.setAttribute("data-article", String(item.id));

      var head = document.createElement("div");
      head.className = "kb-result-head";
      var title = document.createElement("strong");
      title.className = "kb-title";
      title.textContent = item.title;
      head.appendChild(title);
      var language = document.createElement("span");
      language.className = "badge badge-muted";
      language.lang = item.language;
      language.title = item.language_name;
      language.textContent = item.language.toUpperCase();
      head.appendChild(language);
      var visibility = document.createElement("span");
      visibility.className = "badge " + (item.internal ? "kb-internal" : "kb-public");
      visibility.textContent = item.visibility_label;
      head.appendChild(visibility);
      entry.appendChild(head);

      if (item.snippet) {
        var snippet = document.createElement("p");
        snippet.className = "kb-snippet";
        snippet.lang = item.language;
        // The server escaped the text and marked the matches with <mark>.
        snippet.innerHTML = item.snippet;
        entry.appendChild(snippet);
      }

      var actions = document.createElement("div");
      actions.className = "kb-actions";
      if (item.linkable) {
        actions.appendChild(button(text("link"), "link", item, ""));
      } else {
        var none = document.createElement("span");
        none.className = "muted kb-no-link";
        none.textContent = text("no-link");
        actions.appendChild(none);
      }
      actions.appendChild(button(text("text"), "text", item, "btn-secondary"));
      var open = document.createElement("a");
      open.href = item.open_url;
      open.target = "_blank";
      open.rel = "noopener";
      open.className = "kb-open";
      open.textContent = text("open");
      open.setAttribute("aria-label", text("open") + ": " + item.title);
      actions.appendChild(open);
      entry.appendChild(actions);
      list.appendChild(entry);
    });
  }

  // --- inserting ------------------------------------------------------------------------------

  function put(value, pad) {
    var reply = area();
    if (!reply) { return; }
    var target = range || { start: reply.selectionStart, end: reply.selectionEnd };
    var start = Math.min(target.start, reply.value.length);
    var end = Math.min(target.end, reply.value.length);
    if (pad) {
      // A link stays a word of its own: it is not glued to the text around it.
      if (start > 0 && !/\s/.test(reply.value.charAt(start - 1))) { value = " " + value; }
      if (end < reply.value.length && !/\s/.test(reply.value.charAt(end))) { value += " "; }
    }
    reply.focus();
    reply.setRangeText(value, start, end, "end");
    range = null;
  }

  function insert(item, what) {
    var b = box();
    if (!b) { return; }
    var done = function (value) {
      close(false);
      put(value, what === "link");
      status(fill(text(what === "link" ? "inserted-link" : "inserted-text"), "title", item.title));
    };
    if (what === "text" && item.passage) { done(item.passage); return; }
    var url = b.getAttribute("data-insert-url").replace(/\/0\/$/, "/" + item.id + "/") +
      "?what=" + what;
    getJSON(url).then(function (data) { done(data.text); }).catch(function (error) {
      status(error && error.message && !/^\d+$/.test(error.message) ? error.message
        : text("insert-failed"));
    });
  }

  // --- opening and closing --------------------------------------------------------------------

  function open() {
    var reply = area(), p = panel(), field = el("kb-search"), toggle = document.querySelector(".kb-toggle");
    if (!reply || !p || !field) { return; }
    range = { start: reply.selectionStart, end: reply.selectionEnd };
    p.hidden = false;
    if (toggle) { toggle.setAttribute("aria-expanded", "true"); }
    field.focus();
    search(field.value.trim());
  }

  function close(refocus) {
    var p = panel(), toggle = document.querySelector(".kb-toggle"), reply = area();
    window.clearTimeout(timer);
    asked++;
    if (p) { p.hidden = true; }
    if (toggle) { toggle.setAttribute("aria-expanded", "false"); }
    status("");
    if (refocus && reply) {
      reply.focus();
      if (range) { reply.setSelectionRange(range.start, range.end); }
    }
  }

  function typing(target) {
    return Boolean(target && target.closest &&
      target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]"));
  }

  // Capture phase: before the page's own shortcuts (which blur a field on Esc).
  document.addEventListener("keydown", function (event) {
    var target = event.target, p = panel();
    if (p && !p.hidden && p.contains(target)) {
      if (event.key === "Escape") {
        close(true);
        event.preventDefault();
        event.stopPropagation();
      } else if (event.key === "Enter" && target === el("kb-search")) {
        // The field sits in the reply's form: Enter searches instead of sending the reply.
        event.preventDefault();
        event.stopPropagation();
        window.clearTimeout(timer);
        search(target.value.trim());
      }
      return;
    }
    if (event.key === "b" && !typing(target) && !event.ctrlKey && !event.metaKey &&
        !event.altKey && box() && !box().hidden) {
      var tab = el("tab-reply");
      if (tab && tab.getAttribute("aria-selected") !== "true") { tab.click(); }
      event.preventDefault();
      event.stopPropagation();
      open();
    }
  }, true);

  document.addEventListener("input", function (event) {
    if (event.target === el("kb-search")) { searchSoon(event.target.value); }
  });

  // The agent may go on writing the reply while the panel is open: insert where they left it.
  document.addEventListener("focusout", function (event) {
    var reply = area();
    if (reply && event.target === reply && isOpen()) {
      range = { start: reply.selectionStart, end: reply.selectionEnd };
    }
  });

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest(".kb-toggle");
    if (!toggle) { return; }
    if (isOpen()) { close(true); } else { open(); }
  });

  // The reply box is re-rendered after each send (htmx, out of band): show the new panel.
  function reveal() {
    var b = box();
    if (b && b.hidden) { b.hidden = false; items = []; range = null; }
  }
  document.body.addEventListener("htmx:oobAfterSwap", reveal);
  document.body.addEventListener("htmx:afterSettle", reveal);
  reveal();
})();
