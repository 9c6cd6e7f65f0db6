// The help center's chat: forms post in the background and the panel is swapped in place.
// Without this script the same forms post and the page reloads.
(function () {
  "use strict";
  var panel = document.querySelector("[data-ask]");
  if (!panel || !window.fetch) return;

  function scrollToEnd() {
    var log = panel.querySelector("[data-ask-log]");
    if (log && log.lastElementChild) log.lastElementChild.scrollIntoView({block: "nearest"});
  }

  panel.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-ask-form]");
    if (!form) return;
    event.preventDefault();
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) data.append(event.submitter.name, event.submitter.value);
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    panel.setAttribute("aria-busy", "true");
    fetch(form.action, {method: "POST", body: data, credentials: "same-origin",
                        headers: {"X-Requested-With": "fetch"}})
      .then(function (response) { return response.text(); })
      .then(function (html) {
        panel.innerHTML = html;
        panel.removeAttribute("aria-busy");
        scrollToEnd();
        var focus = panel.querySelector("[data-focus], [aria-invalid='true'], #ask-name, #ask-text");
        if (focus) focus.focus();
      })
      .catch(function () {
        // The network failed: post the ordinary way, nothing typed is lost.
        buttons.forEach(function (b) { b.disabled = false; });
        panel.removeAttribute("aria-busy");
        form.submit();
      });
  });

  panel.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && event.target.id === "ask-text") {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });
  scrollToEnd();
})();
