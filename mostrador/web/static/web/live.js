// Live updates for signed-in agents, over one websocket (/ws/agent/): the inbox list refreshes
// itself, the conversation page shows new messages, who else is there and who is typing, and a
// sound or a desktop notification calls the agent when work arrives. Every page works without
// it; the texts come from the templates (data-text-*), already translated.
(function () {
  "use strict";

  var body = document.body;
  if (!body || !body.hasAttribute("data-live") || !window.WebSocket) { return; }
  var me = Number(body.getAttribute("data-live-user"));
  var handlers = {};   // frame type -> function (frame)
  var onOpen = [];     // function (catchUp): after each connection; catchUp after a drop
  var onLeave = [];    // function (): before the page goes away

  function el(id) { return document.getElementById(id); }
  function text(holder, name, values) {
    var template = (holder && holder.getAttribute("data-text-" + name)) || "";
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return values && key in values ? values[key] : whole;
    });
  }
  function each(selector, fn, scope) {
    Array.prototype.forEach.call((scope || document).querySelectorAll(selector), fn);
  }

  // --- the connection -------------------------------------------------------------------------
  var socket = null;
  var attempt = 0;
  var dropped = false;   // the connection was lost at least once: what was missed is re-read
  var leaving = false;
  var retryTimer = 0;
  var pingTimer = 0;
  var lastHeard = 0;
  var statusLine = el("live-status");

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(frame)); }
  }

  // body[data-live] says "open" or "reconnecting" (styles and tests can wait for it).
  function showDown(down) {
    body.setAttribute("data-live", down ? "reconnecting" : "open");
    if (statusLine) { statusLine.textContent = down ? text(statusLine, "down") : ""; }
  }

  function connect() {
    window.clearTimeout(retryTimer);
    if (socket || leaving) { return; }
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host +
                           "/ws/agent/");
    socket = ws;
    ws.onopen = function () {
      attempt = 0;
      lastHeard = Date.now();
      showDown(false);
      pingTimer = window.setInterval(ping, 25000);
      var catchUp = dropped;
      onOpen.forEach(function (fn) { fn(catchUp); });
    };
    ws.onmessage = function (event) {
      lastHeard = Date.now();
      var frame = null;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      var handler = frame && handlers[frame.type];
      if (handler) { handler(frame); }
    };
    ws.onclose = function () { if (socket === ws) { lost(); } };
  }

  // Pauses of 1, 2, 4 … 30 s, with up to a second of jitter so a restarted server is not met by
  // every agent at the same instant.
  function lost() {
    window.clearInterval(pingTimer);
    socket = null;
    if (leaving) { return; }
    dropped = true;
    showDown(true);
    var delay = Math.min(30, Math.pow(2, attempt)) * 1000 + Math.random() * 1000;
    attempt += 1;
    retryTimer = window.setTimeout(connect, delay);
  }

  // Two pings without an answer: the connection is dead even if the browser has not noticed.
  function ping() {
    if (socket && Date.now() - lastHeard > 60000) {
      var ws = socket;
      ws.onclose = null;
      ws.close();
      lost();
      return;
    }
    send({ type: "ping" });
  }

  window.addEventListener("online", function () { if (!socket) { connect(); } });
  window.addEventListener("pagehide", function () {
    onLeave.forEach(function (fn) { fn(); });
    leaving = true;
    window.clearTimeout(retryTimer);
    window.clearInterval(pingTimer);
    if (socket) {
      socket.onclose = null;
      socket.close();
      socket = null;
    }
  });
  // Back from the back/forward cache: the page is shown again as it was, the socket is not.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { leaving = false; dropped = true; connect(); }
  });

  // --- notifications --------------------------------------------------------------------------
  var SOUND = "mostrador.notify.sound";
  var DESKTOP = "mostrador.notify.desktop";
  var toggles = document.querySelector("[data-notify-toggles]");
  var canNotify = "Notification" in window;
  var audio = null;
  var unread = 0;
  var baseTitle = document.title;

  function isOn(key) {
    try { return window.localStorage.getItem(key) === "on"; } catch (e) { return false; }
  }
  function keep(key, on) {
    try { window.localStorage.setItem(key, on ? "on" : "off"); } catch (e) { /* private mode */ }
  }

  function drawToggles() {
    if (!toggles) { return; }
    toggles.hidden = false;
    each("[data-notify]", function (button) {
      var desktop = button.getAttribute("data-notify") === "desktop";
      if (desktop && !canNotify) { button.hidden = true; return; }
      var on = isOn(desktop ? DESKTOP : SOUND) &&
               !(desktop && Notification.permission === "denied");
      button.setAttribute("aria-pressed", on ? "true" : "false");
    }, toggles);
  }

  function say(message) {
    if (!statusLine || statusLine.textContent) { return; }
    statusLine.textContent = message;
    window.setTimeout(function () {
      if (statusLine.textContent === message) { statusLine.textContent = ""; }
    }, 6000);
  }

  if (toggles) {
    toggles.addEventListener("click", function (event) {
      var button = event.target.closest("[data-notify]");
      if (!button) { return; }
      var on = button.getAttribute("aria-pressed") !== "true";
      if (button.getAttribute("data-notify") === "sound") {
        keep(SOUND, on);
        if (on) { beep(); }  // a click may start audio; the agent hears what is coming
        drawToggles();
        return;
      }
      keep(DESKTOP, on);
      drawToggles();
      if (on && Notification.permission !== "granted") {
        Notification.requestPermission().then(function (answer) {
          if (answer !== "granted") { keep(DESKTOP, false); say(text(toggles, "blocked")); }
          drawToggles();
        });
      }
    });
    drawToggles();
  }

  // Browsers start audio only after a gesture on the page: the first click or key prepares it.
  function unlockAudio() { if (isOn(SOUND)) { audioContext(); } }
  document.addEventListener("pointerdown", unlockAudio, { once: true, capture: true });
  document.addEventListener("keydown", unlockAudio, { once: true, capture: true });

  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return null; }
    audio = audio || new Context();
    if (audio.state === "suspended") { audio.resume(); }
    return audio;
  }

  // Two short soft tones, made on the spot: no sound file to fetch.
  function beep() {
    var ctx = audioContext();
    if (!ctx) { return; }
    [[880, 0], [660, 0.14]].forEach(function (tone) {
      var start = ctx.currentTime + tone[1];
      var oscillator = ctx.createOscillator();
      var gain = ctx.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.13);
      oscillator.connect(gain);
      gain.connect(ctx.destination);
      oscillator.start(start);
      oscillator.stop(start + 0.14);
    });
  }

  // Every open tab gets the frame; one beep is enough.
  function firstTab(key) {
    try {
      var last = JSON.parse(window.localStorage.getItem("mostrador.notify.last") || "{}");
      if (last.key === key && Date.now() - last.at < 3000) { return false; }
      window.localStorage.setItem("mostrador.notify.last",
                                  JSON.stringify({ key: key, at: Date.now() }));
    } catch (e) { /* no storage: every tab beeps */ }
    return true;
  }

  function sameOrigin(url) {
    try {
      return new URL(url, location.href).origin === location.origin;
    } catch (e) { return false; }
  }

  function drawTitle() {
    document.title = unread ? "(" + unread + ") " + baseTitle : baseTitle;
  }

  handlers.notify = function (frame) {
    if (document.hidden) { unread += 1; drawTitle(); }
    if (isOn(SOUND) && firstTab([frame.conversation_id, frame.title, frame.body].join("|"))) {
      beep();
    }
    if (!canNotify || !isOn(DESKTOP) || Notification.permission !== "granted") { return; }
    if (!document.hidden && frame.conversation_id === watched) { return; }
    try {
      var note = new Notification(frame.title || "", {
        body: frame.body || "", tag: "conv-" + frame.conversation_id });
      note.onclick = function () {
        window.focus();
        note.close();
        if (frame.url && sameOrigin(frame.url)) { location.assign(frame.url); }
      };
    } catch (e) { /* some mobile browsers only notify from a service worker */ }
  };

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && unread) { unread = 0; drawTitle(); }
  });

  // --- the inbox list -------------------------------------------------------------------------
  var pendingBar = el("live-pending");
  if (el("inbox-list") && pendingBar && window.htmx) {
    var waiting = 0;      // changes not shown yet
    var timer = 0;
    var lastRefresh = 0;
    var refreshing = null;

    // Rows must not move under an agent who is choosing some, naming a view or typing a tag.
    var busy = function () {
      var list = el("inbox-list");
      if (list.querySelector("input[name=ids]:checked, details.save-view[open]")) { return true; }
      var active = document.activeElement;
      return Boolean(active && list.contains(active) &&
                     active.matches("input:not([type=checkbox]), select, textarea"));
    };

    // A burst of changes is one refresh, 300 ms after the first; on a busy desk at most one
    // every two seconds, so the list neither lags behind nor keeps the server busy.
    var later = function () {
      if (timer) { return; }
      var wait = Math.max(300, lastRefresh + 2000 - Date.now());
      timer = window.setTimeout(function () { timer = 0; refresh(false); }, wait);
    };

    var showWaiting = function () {
      pendingBar.hidden = false;
      pendingBar.querySelector("button").textContent = text(pendingBar, "waiting",
                                                            { n: waiting });
    };

    // A list nobody looks at is read again when the tab is shown.
    var consider = function () {
      if (!waiting || document.hidden) { return; }
      if (busy()) { showWaiting(); } else { later(); }
    };
    var changed = function () { waiting += 1; consider(); };

    var rowIds = function (list) {
      return Array.prototype.map.call(list.querySelectorAll("tr[data-conversation]"),
                                      function (row) { return row.dataset.conversation; });
    };

    var refresh = function (asked) {
      var list = el("inbox-list");
      if (!asked && busy()) { showWaiting(); return; }
      // Another request (filters, a page, a bulk action) is on its way: it brings the news too.
      if (document.querySelector(".htmx-request")) { later(); return; }
      var active = document.activeElement;
      var row = active && list.contains(active) ? active.closest("tr[data-conversation]") : null;
      var focus = row ? { id: row.getAttribute("data-conversation"),
                          selector: active.matches("a") ? "a.subject" : "input[name=ids]" } : null;
      var checked = Array.prototype.map.call(list.querySelectorAll("input[name=ids]:checked"),
                                             function (box) { return box.value; });
      var before = rowIds(list);
      var scroll = window.scrollY;
      var url = location.href;
      refreshing = { list: list, url: url };
      lastRefresh = Date.now();
      waiting = 0;
      pendingBar.hidden = true;
      window.htmx.ajax("GET", url, { source: list, target: list, swap: "outerHTML" })
        .then(function () {
          refreshing = null;
          var fresh = el("inbox-list");
          if (!fresh || fresh === list || location.href !== url) { return; }
          window.scrollTo(window.scrollX, scroll);
          checked.forEach(function (id) {
            var box = fresh.querySelector("input[name=ids][value='" + id + "']");
            if (box) { box.checked = true; }
          });
          var anyBox = fresh.querySelector("input[name=ids]");
          if (checked.length && anyBox) {
            anyBox.dispatchEvent(new Event("change", { bubbles: true }));  // inbox.js counts
          }
          if (focus) {
            var target = fresh.querySelector("tr[data-conversation='" + focus.id + "'] " +
                                             focus.selector) || el("inbox-heading");
            if (target) { target.focus({ preventScroll: true }); }
          }
          announceNew(fresh, before);
        }, function () { refreshing = null; });
    };

    var announceNew = function (list, before) {
      var names = [];
      rowIds(list).forEach(function (id) {
        if (before.indexOf(id) >= 0) { return; }
        var row = list.querySelector("tr[data-conversation='" + id + "']");
        row.classList.add("live-new");
        var subject = row.querySelector("a.subject");
        names.push((subject ? subject.textContent : "#" + id).replace(/\s+/g, " ").trim());
      });
      if (names.length) {
        el("inbox-status").textContent = text(pendingBar, "new",
                                              { list: names.slice(0, 3).join("; ") });
      }
    };

    // The list's own answer would also rewrite the status region ("20 conversations shown")
    // at every refresh; a screen reader would read it out each time.
    document.addEventListener("htmx:oobBeforeSwap", function (event) {
      if (refreshing && event.detail.target && event.detail.target.id === "inbox-status") {
        event.detail.shouldSwap = false;
      }
    });
    // The agent moved to other filters meanwhile: this answer is for a list no longer shown.
    document.addEventListener("htmx:beforeSwap", function (event) {
      var config = event.detail.requestConfig;
      if (refreshing && config && config.elt === refreshing.list &&
          location.href !== refreshing.url) {
        event.detail.shouldSwap = false;
      }
    });
    pendingBar.querySelector("button").addEventListener("click", function () { refresh(true); });
    // The last row unticked: what waited is shown.
    document.addEventListener("change", function (event) {
      if (event.target.closest && event.target.closest("#bulk-form")) { consider(); }
    });

    document.addEventListener("visibilitychange", consider);
    handlers.conversation = changed;
    onOpen.push(function (catchUp) { if (catchUp) { changed(); } });
  }

  // --- the conversation page ------------------------------------------------------------------
  var root = el("conversation");
  var area = el("live-conversation");
  var watched = root && area ? Number(root.getAttribute("data-conversation-id")) : null;
  if (watched) {
    var marks = null;
    var readSent = 0;
    var fetchTimer = 0;
    var fetching = false;
    var fetchAgain = false;
    var visitorTimer = 0;
    var typingOn = false;
    var typingSent = 0;
    var idleTimer = 0;
    var jump = el("live-jump");
    var firstUnseen = null;

    var messageId = function (article) { return Number(article.id.slice(1)); };
    var maxId = function (selector) {
      var most = 0;
      each(selector, function (article) { most = Math.max(most, messageId(article)); });
      return most;
    };

    var sendRead = function () {
      if (document.hidden || maxId("#timeline > article.msg-inbound") <= readSent) { return; }
      readSent = maxId("#timeline > article.msg");
      send({ type: "read", conversation: watched, up_to: readSent });
    };

    var drawMarks = function () {
      if (!marks) { return; }
      each("#timeline > article.msg-outbound", function (article) {
        var id = messageId(article);
        var state = id <= marks.read_up_to ? "read"
          : id <= marks.delivered_up_to ? "delivered" : "";
        var mark = article.querySelector(".live-mark");
        if (!state) { if (mark) { mark.remove(); } return; }
        if (!mark) {
          mark = document.createElement("span");
          mark.className = "live-mark";
          article.querySelector(".msg-head").appendChild(mark);
        }
        if (mark.getAttribute("data-mark") !== state) {
          mark.setAttribute("data-mark", state);
          mark.textContent = text(area, state);
        }
      });
    };

    // New entries go in after the last one the page already shows; entries are "m<id>"
    // (messages) and "e<id>" (events), so nothing is shown twice. The composer is not touched.
    var merge = function (fresh) {
      var timeline = el("timeline");
      if (!fresh || !timeline) { return; }
      var added = [];
      var anchor = null;
      Array.prototype.forEach.call(fresh.children, function (entry) {
        if (!/^[me]\d+$/.test(entry.id)) { return; }
        var known = el(entry.id);
        if (known) { updateDelivery(known, entry); anchor = known; return; }
        var node = document.importNode(entry, true);
        var first = timeline.querySelector(":scope > .msg, :scope > .event");
        if (anchor) { anchor.after(node); } else if (first) { first.before(node); } else {
          timeline.appendChild(node);
        }
        anchor = node;
        added.push(node);
      });
      if (!added.length) { return; }
      var empty = timeline.querySelector(":scope > p.muted");
      if (empty) { empty.remove(); }
      var lines = [];
      added.forEach(function (node) {
        window.htmx.process(node);
        node.classList.add("live-new");
        if (node.matches("article.msg")) {
          var author = node.querySelector(".msg-author");
          lines.push(text(area, node.matches(".msg-note") ? "note" : "message",
                          { name: author ? author.textContent.trim() : "" }));
        }
      });
      if (lines.length) { el("live-new").textContent = lines.join(" "); }
      drawMarks();
      sendRead();
      var firstAdded = added[0];
      if (jump && firstAdded.getBoundingClientRect().top > window.innerHeight) {
        firstUnseen = firstAdded;
        jump.hidden = false;
      }
    };

    // A reply's delivery (queued, sent, failed) changes after it is shown.
    var updateDelivery = function (known, entry) {
      var old = known.querySelector(".delivery");
      var now = entry.querySelector(".delivery");
      if (!old || !now || known.contains(document.activeElement) ||
          (old.className === now.className && old.textContent === now.textContent)) { return; }
      var copy = document.importNode(now, true);
      old.replaceWith(copy);
      window.htmx.process(copy);
    };

    // The page itself is the fragment: its timeline, read again, holds the new entries.
    var fetchTimeline = function () {
      if (fetching) { fetchAgain = true; return; }
      if (new URLSearchParams(location.search).has("before")) {
        el("live-new").textContent = text(area, "arrived");
        return;
      }
      fetching = true;
      window.fetch(location.pathname + location.search,
                   { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.text();
        })
        .then(function (html) {
          merge(new DOMParser().parseFromString(html, "text/html").getElementById("timeline"));
        })
        .catch(function () { /* the next message or reconnection tries again */ })
        .then(function () {
          fetching = false;
          if (fetchAgain) { fetchAgain = false; fetchTimeline(); }
        });
    };

    var typing = function (on) {
      window.clearTimeout(idleTimer);
      if (on) {
        if (!typingOn || Date.now() - typingSent >= 2000) {
          send({ type: "typing", conversation: watched, on: true });
          typingSent = Date.now();
        }
        typingOn = true;
        idleTimer = window.setTimeout(function () { typing(false); }, 3000);
      } else if (typingOn) {
        typingOn = false;
        send({ type: "typing", conversation: watched, on: false });
      }
    };

    handlers.message = function (frame) {
      if (frame.conversation_id !== watched) { return; }
      window.clearTimeout(fetchTimer);
      fetchTimer = window.setTimeout(fetchTimeline, 150);
    };

    handlers.presence = function (frame) {
      if (frame.conversation_id !== watched) { return; }
      var others = (frame.agents || []).filter(function (agent) { return agent.id !== me; });
      var names = others.map(function (agent) {
        return agent.typing ? text(area, "typing", { name: agent.name }) : agent.name;
      });
      var line = el("live-presence");
      line.textContent = names.length ? text(area, "here", { names: names.join(", ") }) : "";
      var typingToo = others.some(function (agent) { return agent.typing; });
      line.classList.toggle("live-collision", typingToo);
    };

    handlers.visitor_typing = function (frame) {
      if (frame.conversation_id !== watched) { return; }
      var line = el("live-visitor");
      window.clearTimeout(visitorTimer);
      line.textContent = frame.on ? text(area, "visitor") : "";
      // A lost "stopped typing" must not leave the line up for good.
      if (frame.on) {
        visitorTimer = window.setTimeout(function () { line.textContent = ""; }, 15000);
      }
    };

    handlers.marks = function (frame) {
      if (frame.conversation_id !== watched) { return; }
      marks = frame;
      drawMarks();
    };

    onOpen.push(function (catchUp) {
      send({ type: "watch", conversation: watched });
      readSent = 0;
      sendRead();
      if (catchUp) { fetchTimeline(); }
    });
    onLeave.push(function () {
      typing(false);
      send({ type: "unwatch" });
    });

    document.addEventListener("input", function (event) {
      if (event.target.matches && event.target.matches("#panel-reply textarea")) { typing(true); }
    });
    document.addEventListener("submit", function (event) {
      if (event.target.id === "panel-reply") { typing(false); }
      if (event.target.closest("#composer")) { el("live-new").textContent = ""; }  // answered
    }, true);
    document.addEventListener("visibilitychange", sendRead);
    // The agent's own reply or note brings a new timeline: its messages get their marks again.
    document.body.addEventListener("htmx:afterSettle", drawMarks);

    if (jump) {
      jump.addEventListener("click", function () {
        jump.hidden = true;
        if (firstUnseen && document.contains(firstUnseen)) {
          firstUnseen.setAttribute("tabindex", "-1");
          firstUnseen.scrollIntoView({ block: "center" });
          firstUnseen.focus({ preventScroll: true });
        }
      });
      window.addEventListener("scroll", function () {
        if (!jump.hidden && firstUnseen &&
            firstUnseen.getBoundingClientRect().top < window.innerHeight) { jump.hidden = true; }
      }, { passive: true });
    }
  }

  connect();
})();
