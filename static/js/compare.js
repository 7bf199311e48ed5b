// Photo comparison: adds an overlay with a slider on top of the plain side-by-side
// figures (templates/cases/photos/compare.html). Without JavaScript the page shows the
// two photos side by side, which is complete on its own. No inline styles: positions are
// set through the CSSOM (a CSS custom property), which a strict CSP allows.
(function () {
  "use strict";
  document.querySelectorAll("[data-photo-compare]").forEach(function (pair, index) {
    var images = pair.querySelectorAll("figure img");
    if (images.length !== 2) { return; }
    var left = images[0], right = images[1];

    var overlay = document.createElement("section");
    overlay.className = "photo-overlay mb-3";
    overlay.setAttribute("aria-label", "Overlay comparison");
    overlay.hidden = true;

    var stage = document.createElement("div");
    stage.className = "photo-overlay-stage rounded border";
    var base = left.cloneNode();
    base.removeAttribute("class");
    var top = document.createElement("div");
    top.className = "photo-overlay-top";
    var topImage = right.cloneNode();
    topImage.removeAttribute("class");
    topImage.alt = "";  // the base image's alt and the slider's label describe the view
    top.appendChild(topImage);
    var divider = document.createElement("div");
    divider.className = "photo-overlay-divider";
    stage.append(base, top, divider);

    var sliderId = "photo-overlay-slider-" + index;
    var label = document.createElement("label");
    label.className = "form-label mt-2";
    label.htmlFor = sliderId;
    label.textContent = "Slide to reveal the right photo (" + (right.alt || "later photo") + ")";
    var slider = document.createElement("input");
    slider.type = "range";
    slider.className = "form-range";
    slider.id = sliderId;
    slider.min = "0";
    slider.max = "100";
    slider.value = "50";
    var sync = function () {
      // The right photo shows from the slider's position to the right edge.
      stage.style.setProperty("--reveal", (100 - Number(slider.value)) + "%");
      slider.setAttribute("aria-valuetext", slider.value + "% of the right photo shown");
    };
    slider.addEventListener("input", sync);
    sync();
    overlay.append(stage, label, slider);

    var toggle = document.createElement("div");
    toggle.className = "btn-group mb-2";
    toggle.setAttribute("role", "group");
    toggle.setAttribute("aria-label", "Comparison view");
    var makeButton = function (text, showOverlay) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-outline-primary";
      button.textContent = text;
      button.addEventListener("click", function () {
        overlay.hidden = !showOverlay;
        pair.hidden = showOverlay;
        sideButton.setAttribute("aria-pressed", String(!showOverlay));
        overlayButton.setAttribute("aria-pressed", String(showOverlay));
        sideButton.classList.toggle("active", !showOverlay);
        overlayButton.classList.toggle("active", showOverlay);
      });
      return button;
    };
    var sideButton = makeButton("Side by side", false);
    var overlayButton = makeButton("Overlay with slider", true);
    sideButton.setAttribute("aria-pressed", "true");
    sideButton.classList.add("active");
    overlayButton.setAttribute("aria-pressed", "false");
    toggle.append(sideButton, overlayButton);

    pair.parentNode.insertBefore(toggle, pair);
    pair.parentNode.insertBefore(overlay, pair.nextSibling);
  });
})();
