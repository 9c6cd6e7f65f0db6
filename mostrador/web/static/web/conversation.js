// The conversation page: reply/note tabs, @mention suggestions, keyboard shortcuts and the
// properties fold on small screens. Everything here is an enhancement: the page works without it.
(function () {
  "use strict";

  var root = document.getElementById("conversation");
  if (!root) { return; }
  var narrow = window.matchMedia("(max-width: 900px)");
  var propertiesOpen = !narrow.matches;

  // --- the list the agent came from ---------------------------------------------------------
  function fromQuery() {
    var from = root.getAttribute("data-from") || "";
    if (from) { return from; }
    try {
      var ref = new URL(document.referrer);
      if (ref.origin === window.location.origin && ref.pathname === "/") {
        return ref.search.replace(/^\?/, "");
      }
    } catch (e) { /* no referrer */ }
    return "";
  }

  function say(text) {
    var notice = document.getElementById("notice");
    if (!notice) { return; }
    var line = document.createElement("p");
    line.className = "notice-line";
    line.textContent = text;
    notice.replaceChildren(line);
  }

  function goToNeighbour(which) {
    var url = root.getAttribute(which === "next" ? "data-next-url" : "data-previous-url");
    var from = fromQuery();
    if (from) { url += "?from=" + encodeURIComponent(from); }
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (data.url) { window.location.assign(data.url); return; }
        say(root.getAttribute(which === "next" ? "data-last-text" : "data-first-text"));
      })
      .catch(function () { window.location.assign(url); });
  }

  // --- reply / note tabs --------------------------------------------------------------------
  function composer() { return document.getElementById("composer"); }

  function showTab(name, focus) {
    var box = composer();
    if (!box) { return; }
    var tabs = box.querySelector(".composer-tabs");
    if (!tabs) { return; }
    tabs.hidden = false;
    box.setAttribute("data-tab", name);
    ["reply", "note"].forEach(function (tab) {
      var button = document.getElementById("tab-" + tab);
      var panel = document.getElementById("panel-" + tab);
      var active = tab === name;
      if (button) {
        button.setAttribute("aria-selected", active ? "true" : "false");
        button.tabIndex = active ? 0 : -1;
      }
      if (panel) { panel.hidden = !active; }
    });
    if (focus) {
      var area = document.querySelector("#panel-" + name + " textarea");
      if (area) { area.focus(); }
    }
  }

  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest(".composer-tabs [role=tab]");
    if (tab) { showTab(tab.id.replace("tab-", ""), true); }
  });
  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest(".composer-tabs [role=tab]");
    if (tab && (event.key === "ArrowLeft" || event.key === "ArrowRight")) {
      var next = tab.id === "tab-reply" ? "note" : "reply";
      showTab(next, false);
      document.getElementById("tab-" + next).focus();
      event.preventDefault();
    }
  });

  // --- @mentions ----------------------------------------------------------------------------
  var agents = [];
  try {
    agents = JSON.parse(document.getElementById("mention-agents").textContent) || [];
  } catch (e) { agents = []; }
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  var mention = { area: null, start: -1, items: [], active: 0 };

  function mentionList() { return document.getElementById("mention-list"); }

  function closeMentions() {
    var list = mentionList();
    if (list) { list.hidden = true; list.replaceChildren(); }
    if (mention.area) { mention.area.removeAttribute("aria-activedescendant"); }
    if (mention.area) { mention.area.setAttribute("aria-expanded", "false"); }
    mention.items = [];
  }

  function renderMentions() {
    var list = mentionList();
    if (!list) { return; }
    list.replaceChildren();
    mention.items.forEach(function (agent, index) {
      var item = document.createElement("li");
      item.id = "mention-option-" + index;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", index === mention.active ? "true" : "false");
      item.appendChild(document.createTextNode(agent.name));
      var handle = document.createElement("span");
      handle.className = "handle";
      handle.textContent = "@" + agent.handle;
      item.appendChild(handle);
      item.addEventListener("mousedown", function (event) {
        event.preventDefault();
        pickMention(index);
      });
      list.appendChild(item);
    });
    list.hidden = mention.items.length === 0;
    mention.area.setAttribute("aria-expanded", mention.items.length ? "true" : "false");
    if (mention.items.length) {
      mention.area.setAttribute("aria-activedescendant", "mention-option-" + mention.active);
    }
  }

  function updateMentions(area) {
    var before = area.value.slice(0, area.selectionStart);
    var match = /(^|[^\w@])@([\w.\-]*)$/u.exec(before);
    if (!match) { closeMentions(); return; }
    var typed = fold(match[2]);
    mention.area = area;
    mention.start = before.length - match[2].length - 1;
    mention.items = agents.filter(function (agent) {
      if (fold(agent.handle).indexOf(typed) === 0) { return true; }
      return fold(agent.name).split(/\s+/).some(function (word) { return word.indexOf(typed) === 0; });
    }).slice(0, 8);
    mention.active = 0;
    renderMentions();
  }

  function pickMention(index) {
    var agent = mention.items[index];
    var area = mention.area;
    if (!agent || !area) { return; }
    var caret = area.selectionStart;
    var insert = "@" + agent.handle + " ";
    area.value = area.value.slice(0, mention.start) + insert + area.value.slice(caret);
    var position = mention.start + insert.length;
    area.setSelectionRange(position, position);
    area.focus();
    closeMentions();
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-mentions]")) {
      updateMentions(event.target);
    }
  });
  document.addEventListener("focusout", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-mentions]")) {
      closeMentions();
    }
  });

  // --- keyboard shortcuts ---------------------------------------------------------------------
  function typing(target) {
    if (!target || !target.closest) { return false; }
    return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]"));
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    // The suggestion list takes the arrows, Enter and Tab while it is open.
    if (mention.items.length && target === mention.area) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        var step = event.key === "ArrowDown" ? 1 : -1;
        mention.active = (mention.active + step + mention.items.length) % mention.items.length;
        renderMentions();
        event.preventDefault();
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        pickMention(mention.active);
        event.preventDefault();
        return;
      }
      if (event.key === "Escape") {
        closeMentions();
        event.preventDefault();
        return;
      }
    }
    if (typing(target)) {
      if (event.key === "Escape" && target.blur) { target.blur(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) { return; }
    switch (event.key) {
      case "j": goToNeighbour("next"); break;
      case "k": goToNeighbour("previous"); break;
      case "r": showTab("reply", true); break;
      case "n": showTab("note", true); break;
      case "e": solve(); break;
      case "?": toggleHelp(); break;
      default: return;
    }
    event.preventDefault();
  });

  function solve() {
    var form = document.getElementById("solve-form");
    if (!form) { return; }
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  function toggleHelp() {
    var help = document.getElementById("shortcut-help");
    if (!help) { return; }
    if (help.togglePopover) { help.togglePopover(); } else { help.hidden = !help.hidden; }
  }

  // --- "Save as article" on a reply ------------------------------------------------------------
  // Cancel empties the form's slot and gives focus back to the link that opened it.
  document.addEventListener("click", function (event) {
    var cancel = event.target.closest && event.target.closest("[data-article-cancel]");
    if (!cancel) { return; }
    var slot = cancel.closest(".msg-article");
    if (!slot) { return; }
    var opener = document.querySelector("[aria-controls='" + slot.id + "']");
    slot.replaceChildren();
    if (opener) { opener.focus(); }
  });

  // --- after htmx swaps -----------------------------------------------------------------------
  document.addEventListener("toggle", function (event) {
    if (event.target.classList && event.target.classList.contains("properties-fold")) {
      propertiesOpen = event.target.open;
    }
  }, true);

  // Regions swapped in may ask for focus (the composer after sending, "Undo" after solving
  // from the keyboard) with data-focus-now.
  function sync() {
    pending = false;
    var box = composer();
    if (box) { showTab(box.getAttribute("data-tab") || "reply", false); }
    var fold = document.querySelector(".properties-fold");
    if (fold && fold.open !== propertiesOpen) { fold.open = propertiesOpen; }
    var wanted = document.querySelector("[data-focus-now]");
    if (wanted) {
      wanted.removeAttribute("data-focus-now");
      wanted.focus();
    }
  }

  var pending = false;
  function syncSoon() {
    if (!pending) { pending = true; window.setTimeout(sync, 0); }
  }

  // Every region comes back out of band; the element that asked may be gone by then.
  document.body.addEventListener("htmx:oobAfterSwap", syncSoon);
  document.body.addEventListener("htmx:afterSettle", syncSoon);
  narrow.addEventListener("change", function (event) {
    propertiesOpen = !event.matches;
    var fold = document.querySelector(".properties-fold");
    if (fold) { fold.open = propertiesOpen; }
  });
  sync();
})();
