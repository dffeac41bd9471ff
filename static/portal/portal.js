/* Progressive enhancement only: every page works without this file.
   - forms whose submit button has data-confirm ask before destructive actions;
   - elements with data-copy get a "copy" button (label from data-copy-label). */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  document.querySelectorAll("[data-copy]").forEach(function (el) {
    if (!navigator.clipboard) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary copy-button";
    button.textContent = el.getAttribute("data-copy-label") || "Copy";
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(el.textContent.trim()).then(function () {
        button.textContent = el.getAttribute("data-copied-label") || "Copied";
      });
    });
    el.insertAdjacentElement("afterend", button);
  });
})();
