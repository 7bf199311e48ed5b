// Progressive enhancement for the laser session form: choosing a device fills the
// session's laser type, pulse domain and wavelength from the device, read from the data-
// attributes the server renders on each device option. Without this file the server
// fills an empty laser type and pulse domain, and refuses a session that contradicts its
// device, with a message naming both.
(function () {
  "use strict";
  var device = document.querySelector("select[data-laser-device]");
  if (!device || !device.form) { return; }
  var field = function (name) { return device.form.elements.namedItem(name); };
  var laserType = field("laser_type");
  var pulseDomain = field("pulse_domain");
  var choice = field("wavelength_choice");
  var other = field("wavelength_other");

  // Set a field and tell the page (app.js shows "Other wavelength" only with "Other…").
  var set = function (input, value) {
    if (!input || input.value === value) { return; }
    input.value = value;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  };
  var offers = function (select, value) {
    return Array.prototype.some.call(select.options, function (option) { return option.value === value; });
  };
  var wavelength = function () {
    if (!choice) { return ""; }
    return choice.value === "other" ? (other ? other.value : "") : choice.value;
  };
  var setWavelength = function (nm) {
    if (!choice) { return; }
    if (offers(choice, nm)) {
      set(other, "");
      set(choice, nm);
    } else {
      set(other, nm);
      set(choice, "other");
    }
  };

  device.addEventListener("change", function () {
    var option = device.options[device.selectedIndex];
    if (!option || !option.value) { return; }
    set(laserType, option.getAttribute("data-laser-type") || "");
    var pulse = option.getAttribute("data-pulse-domain");
    if (pulse) { set(pulseDomain, pulse); }
    var listed = (option.getAttribute("data-wavelengths") || "").split(",").filter(Boolean);
    // Keep a wavelength the device has; else its 1064 nm (the usual one for black
    // carbon pigment and darker skin), else the first it lists.
    if (listed.length && listed.indexOf(wavelength()) === -1) {
      setWavelength(listed.indexOf("1064") !== -1 ? "1064" : listed[0]);
    }
  });
})();
