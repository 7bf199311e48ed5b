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
(function () {
  "use strict";
  // Show a field only while a select has one value, e.g. "Other wavelength" with "Other…":
  // data-reveal-when-value="<wrapper id>:<value>". A field holding a value stays visible.
  document.querySelectorAll("[data-reveal-when-value]").forEach(function (select) {
    var spec = select.getAttribute("data-reveal-when-value").split(":");
    var target = document.getElementById(spec[0]);
    if (!target) { return; }
    var input = target.querySelector("input, select, textarea");
    var sync = function () { target.hidden = select.value !== spec[1] && !(input && input.value); };
    select.addEventListener("change", sync);
    sync();
  });
})();
