// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Show the override reason box only when its checkbox is ticked.
  document.querySelectorAll("[data-reveal-when-checked]").forEach(function (box) {
    var target = document.getElementById(box.getAttribute("data-reveal-when-checked"));
    if (!target) { return; }
    var sync = function () { target.hidden = !box.checked; };
    box.addEventListener("change", sync);
    sync();
  });
})();
