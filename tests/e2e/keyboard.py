"""Driving a page with the keyboard alone: Tab to a control (asserting at every stop that
the focused element shows a visible focus indicator), then Enter, Space, arrows or typing."""

from __future__ import annotations

MAX_TABS = 250

# What a person reads on the focused control: its label, its text or its accessible name.
_NAME_OF_FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const label = e.labels && e.labels.length ? e.labels[0].innerText : "";
  return [e.tagName, e.type || "", (label || e.getAttribute("aria-label") || e.innerText || e.value || "")
    .replace(/\\s+/g, " ").trim()];
}"""

# Visible focus: an outline or a box-shadow on the element (or a focus ring it draws with ::after).
_FOCUS_SHOWN = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== "none";
  const text = `${e.tagName} outline=${style.outlineStyle} ${style.outlineWidth} shadow=${style.boxShadow} ` +
    `focus=${e.matches(":focus")} focus-visible=${e.matches(":focus-visible")} page-focused=${document.hasFocus()}`;
  // Headless Chromium focuses a date or time field's inner segment without matching :focus on the
  // field itself (so no focus style can apply): nothing to judge there.
  const segment = ["date", "datetime-local", "time"].includes(e.type) && !e.matches(":focus");
  return {outline, shadow, segment, text};
}"""


class Keyboard:
    def __init__(self, page):
        self.page = page
        self.stops = 0

    def focused(self):
        return self.page.evaluate(_NAME_OF_FOCUSED)

    def tab_to(self, name: str, *, tag: str | None = None, exact: bool = False):
        """Press Tab until the focused control's name starts with (or is) `name`."""
        for _ in range(MAX_TABS):
            self.page.keyboard.press("Tab")
            self.stops += 1
            focused = self.focused()
            if focused is None:
                continue
            self._assert_focus_shown(focused)
            element, _type, text = focused
            if tag and element != tag:
                continue
            if (text == name) if exact else text.startswith(name):
                return focused
        raise AssertionError(f"Tab never reached {name!r} on {self.page.url}")

    def _assert_focus_shown(self, focused) -> None:
        # Bootstrap fades its focus ring in (a 0.15 s transition): look again for up to a second.
        for _ in range(10):
            shown = self.page.evaluate(_FOCUS_SHOWN)
            if shown["outline"] or shown["shadow"] or shown["segment"]:
                return
            self.page.wait_for_timeout(100)
        raise AssertionError(f"focus not visible on {focused} at {self.page.url}: {shown['text']}")

    def type_into(self, name: str, text: str, **kwargs) -> None:
        self.tab_to(name, **kwargs)
        self.page.keyboard.type(text)

    def choose(self, name: str, option: str) -> None:
        """Focus a <select> and move to the option whose text starts with `option` with the arrow keys."""
        self.tab_to(name, tag="SELECT")
        target, current = self.page.evaluate(
            """option => { const s = document.activeElement;
              return [Array.from(s.options).findIndex(o => o.text.trim().startsWith(option)), s.selectedIndex]; }""",
            option,
        )
        assert target >= 0, f"no option {option!r} in {name!r}"
        key = "ArrowDown" if target > current else "ArrowUp"
        for _ in range(abs(target - current)):
            self.page.keyboard.press(key)
        assert self.page.evaluate("() => document.activeElement.selectedIndex") == target

    def tick(self, name: str) -> None:
        self.tab_to(name, tag="INPUT")
        self.page.keyboard.press("Space")
        assert self.page.evaluate("() => document.activeElement.checked")

    def activate(self, name: str, *, navigates: bool = True, **kwargs) -> None:
        """Tab to a link or button and press Enter: a link opens, a form submits (waiting
        for the next page), a <summary> unfolds its section (`navigates=False`)."""
        self.tab_to(name, **kwargs)
        if navigates:
            with self.page.expect_navigation():
                self.page.keyboard.press("Enter")
            self.page.wait_for_load_state("load")
        else:
            self.page.keyboard.press("Enter")
