/* Help center: small enhancements over pages that work without JavaScript.
   - "Was this helpful?" is sent in place, without reloading the article.
   - The request form suggests articles while the customer types (after a 300 ms pause). */
(function () {
  "use strict";

  function enhanceFeedback(form) {
    var status = document.querySelector("[data-feedback-status]");
    var native = false;
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (native || !button || !window.fetch || !window.FormData) { return; }
      event.preventDefault();
      var data = new FormData(form);
      data.set("helpful", button.value);
      fetch(form.action, {method: "POST", body: data, credentials: "same-origin",
                          headers: {"Accept": "application/json"}})
        .then(function (response) {
          return response.json().then(function (body) { return {ok: response.ok, body: body}; });
        })
        .then(function (result) {
          if (!result.ok) {
            var errors = result.body.errors || {};
            var first = Object.keys(errors)[0];
            if (status && first) { status.textContent = errors[first][0]; }
            return;
          }
          form.querySelectorAll("button[name=helpful]").forEach(function (other) {
            other.toggleAttribute("data-chosen", other === button);
          });
          if (status) { status.textContent = result.body.message; }
        })
        .catch(function () {
          // Let the browser send it the ordinary way.
          native = true;
          form.requestSubmit(button);
        });
    });
  }

  function enhanceRequest(form) {
    var url = form.getAttribute("data-suggest-url");
    var box = document.getElementById("suggestions");
    var list = form.querySelector("[data-suggestion-list]");
    var status = form.querySelector("[data-suggestion-status]");
    var visit = form.querySelector("input[name=visit]");
    var sources = form.querySelectorAll("[data-suggest-source]");
    if (!url || !box || !list || !window.fetch) { return; }
    var timer = null, asked = "", latest = 0;

    function question() {
      var parts = [];
      sources.forEach(function (field) { parts.push(field.value.trim()); });
      return parts.join(" ").replace(/\s+/g, " ").trim().slice(0, 300);
    }

    function show(items) {
      list.textContent = "";
      items.forEach(function (item) {
        var li = document.createElement("li");
        var link = document.createElement("a");
        link.href = item.url;
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = item.title;
        var hint = document.createElement("span");
        hint.className = "visually-hidden";
        hint.textContent = " " + (box.getAttribute("data-new-tab") || "");
        link.appendChild(hint);
        var snippet = document.createElement("p");
        snippet.className = "snippet";
        snippet.innerHTML = item.snippet;  // escaped by the server, words in <mark>
        li.appendChild(link);
        li.appendChild(snippet);
        list.appendChild(li);
      });
      box.hidden = items.length === 0;
      if (status) {
        status.textContent = items.length === 0 ? "" :
          status.getAttribute(items.length === 1 ? "data-one" : "data-many");
      }
    }

    function ask() {
      var q = question();
      if (q === asked) { return; }
      asked = q;
      if (q.length < 3) { show([]); return; }
      var ticket = ++latest;
      var params = new URLSearchParams({q: q});
      if (visit && visit.value) { params.set("visit", visit.value); }
      fetch(url + "?" + params.toString(), {headers: {"Accept": "application/json"},
                                             credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (items) { if (ticket === latest) { show(items); } })
        .catch(function () { /* suggestions are a help, not a need */ });
    }

    sources.forEach(function (field) {
      field.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(ask, 300);
      });
    });
    if (question().length >= 3) { ask(); }
  }

  function focusErrors() {
    var summary = document.querySelector("[data-focus]");
    if (summary) { summary.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-feedback-form]").forEach(enhanceFeedback);
    var request = document.getElementById("request-form");
    if (request) { enhanceRequest(request); }
    focusErrors();
  });
})();
