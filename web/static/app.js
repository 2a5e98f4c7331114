// Small improvements only: every page works the same without this file.
(function () {
  "use strict";

  // The document page, opened from a search: bring the first marked word to mid-screen
  // (the #first-match link already scrolls there without JavaScript).
  var first = document.getElementById("first-match");
  if (first && (!location.hash || location.hash === "#first-match")) {
    first.scrollIntoView({ block: "center" });
  }

  // "/" moves to the search box, as on many search sites.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(target.tagName))) return;
    var box = document.querySelector('input[name="q"]');
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });
})();
