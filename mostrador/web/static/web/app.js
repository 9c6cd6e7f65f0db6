// Small behaviours shared by every page; each page adds its own script when it needs one.
(function () {
  "use strict";
  // A select marked data-autosubmit submits its form when it changes (language, filters).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-autosubmit]") && target.form) {
      if (target.form.requestSubmit) { target.form.requestSubmit(); } else { target.form.submit(); }
    }
  });
  // htmx answers with 4xx/5xx carry a readable message: show it instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var text = event.detail.xhr.responseText || "";
    var box = document.getElementById("htmx-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "htmx-error";
      box.className = "flash flash-error";
      box.setAttribute("role", "alert");
      document.getElementById("main").prepend(box);
    }
    var parsed = null;
    try { parsed = JSON.parse(text); } catch (e) { parsed = null; }
    box.textContent = (parsed && parsed.detail) || text.replace(/<[^>]*>/g, " ").trim().slice(0, 300);
  });
})();
