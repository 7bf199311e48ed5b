// The diary's keys (templates/cases/diary): ← and → go to the previous and next day or
// week, T to today. Ignored while typing in a form field.
(function () {
  "use strict";
  var keys = { ArrowLeft: "[data-diary-previous]", ArrowRight: "[data-diary-next]", t: "[data-diary-today]", T: "[data-diary-today]" };
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName))) return;
    var selector = keys[event.key];
    var link = selector && document.querySelector(selector);
    if (link) {
      event.preventDefault();
      window.location.href = link.href;
    }
  });
})();
