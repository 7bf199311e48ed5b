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
(function () {
  "use strict";
  // A "tick all" box in a table header: <th data-check-all="<checkbox name>">. Without
  // JavaScript each row is ticked on its own.
  document.querySelectorAll("th[data-check-all]").forEach(function (cell, index) {
    var table = cell.closest("table");
    var boxes = table.querySelectorAll('tbody input[type="checkbox"][name="' + cell.getAttribute("data-check-all") + '"]');
    if (!boxes.length) { return; }
    var all = document.createElement("input");
    all.type = "checkbox";
    all.className = "form-check-input";
    all.id = "check-all-" + index;
    var label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = all.id;
    label.textContent = "Tick all " + boxes.length + " rows";
    cell.replaceChildren(all, label);
    var sync = function () {
      var ticked = Array.prototype.filter.call(boxes, function (box) { return box.checked; }).length;
      all.checked = ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    };
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
    boxes.forEach(function (box) { box.addEventListener("change", sync); });
    sync();
  });
})();
(function () {
  "use strict";
  // A wide table scrolls inside its own box (.table-scroll). Say so above it, only while
  // the table is wider than its box (a phone or a tablet at the chair); the hint goes
  // away again when the window grows.
  var boxes = document.querySelectorAll(".table-scroll");
  if (!boxes.length) { return; }
  var hints = [];
  boxes.forEach(function (box, index) {
    // A name for the box as a region, unique on the page: the table's caption or heading.
    var caption = box.querySelector("caption");
    var section = box.closest("section");
    var heading = section && section.querySelector("h1, h2, h3, h4, h5, h6");
    var about = (caption || heading) ? (caption || heading).textContent.replace(/\s+/g, " ").trim() : "Table";
    box.setAttribute("data-scroll-label", about + " (table " + (index + 1) + "), scrolls sideways");
    var hint = document.createElement("p");
    hint.className = "table-scroll-hint";
    hint.setAttribute("aria-hidden", "true");
    hint.textContent = "Scroll sideways for more columns \u2192";
    hint.hidden = true;
    box.parentNode.insertBefore(hint, box);
    hints.push([box, hint]);
  });
  var sync = function () {
    hints.forEach(function (pair) {
      var fits = pair[0].scrollWidth <= pair[0].clientWidth + 1;
      pair[1].hidden = fits;
      // A box that scrolls takes the keyboard's focus, so arrow keys scroll it too.
      if (fits) {
        pair[0].removeAttribute("tabindex");
        pair[0].removeAttribute("role");
        pair[0].removeAttribute("aria-label");
      } else {
        pair[0].tabIndex = 0;
        pair[0].setAttribute("role", "region");
        pair[0].setAttribute("aria-label", pair[0].getAttribute("data-scroll-label"));
      }
    });
  };
  window.addEventListener("resize", sync);
  sync();
})();
(function () {
  "use strict";
  // A link to a section of a page (#follow-ups) opens the folded <details> it names.
  var open = function () {
    if (!window.location.hash) { return; }
    var target = document.getElementById(window.location.hash.slice(1));
    if (!target) { return; }
    var details = target.tagName === "DETAILS" ? target : target.querySelector("details") || target.closest("details");
    if (details && !details.open) {
      details.open = true;
      target.scrollIntoView();
    }
  };
  window.addEventListener("hashchange", open);
  open();
})();
