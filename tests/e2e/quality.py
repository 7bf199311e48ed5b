"""One check for every page a journey visits: accessibility (axe-core, bundled with
axe-playwright-python: nothing is fetched from a CDN), console errors, failed requests,
Content Security Policy violations and sideways scrolling.

`Watch(page)` listens to the page from the start, so a broken favicon or a refused
inline script on any page is caught; `watch.check(label)` runs on the page shown now.
"""

from __future__ import annotations

from dataclasses import dataclass, field

try:
    from axe_playwright_python.sync_playwright import Axe
except ImportError as error:  # pragma: no cover - a message, not a test
    raise ImportError(
        "axe-playwright-python is missing: `make install-dev` (requirements-dev.txt pins it) before `make e2e`."
    ) from error

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
BLOCKING_IMPACTS = {"serious", "critical"}

_axe = Axe()


@dataclass
class Watch:
    """Collects what went wrong on a page while a journey drives it."""

    page: object
    portal: bool = False
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    # Responses a journey provokes on purpose (a client refused a staff page).
    expected_statuses: set[int] = field(default_factory=set)

    def __post_init__(self):
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"{self.page.url}: script error {error}"))
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", self._response)

    def _console(self, message) -> None:
        expected = any(f"status of {status} " in message.text for status in self.expected_statuses)
        if "Failed to load resource" in message.text and expected:
            return  # the response itself is checked (and reported) by _response
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"{self.page.url}: console {message.type}: {message.text}")

    def _request_failed(self, request) -> None:
        failure = request.failure or ""
        # The browser cancelled the request itself: a download left the page, or the journey
        # moved on (a click) while the favicon was still loading. A resource the server
        # failed to give shows as an error status (_response) or a network error instead.
        if "ERR_ABORTED" in failure:
            return
        self.problems.append(f"{self.page.url}: request failed {request.method} {request.url}: {failure}")

    def _response(self, response) -> None:
        if response.status >= 400 and response.status not in self.expected_statuses:
            self.problems.append(f"{self.page.url}: {response.status} for {response.request.method} {response.url}")

    def expect_status(self, *statuses: int):
        self.expected_statuses.update(statuses)
        return self

    def check(self, label: str) -> None:
        """Axe at desktop and phone widths, no sideways scroll at the page's narrow width
        (staff 768 px, portal 390 px), nothing logged so far; then the viewport is restored."""
        page = self.page
        page.wait_for_load_state("load")
        # Colours are checked as they rest, not halfway through a button's or a link's
        # colour transition (the pointer left on a button the page just drew, say): the
        # stylesheets turn transitions off for people who ask for reduced motion.
        page.emulate_media(reduced_motion="reduce")
        original = page.viewport_size
        widths = [PHONE] if self.portal else [DESKTOP, PHONE]
        narrow = PHONE if self.portal else TABLET
        found = []
        try:
            for size in widths:
                page.set_viewport_size(size)
                found += _axe_findings(page, label, size)
            page.set_viewport_size(narrow)
            scroll, client = page.evaluate(
                "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            if scroll > client:
                found.append(f"{label} ({page.url}): scrolls sideways at {narrow['width']} px ({scroll} > {client})")
        finally:
            page.set_viewport_size(original)
        self.checked.append(label)
        self.problems.extend(found)

    def assert_clean(self) -> None:
        assert not self.problems, "Problems on the pages visited:\n" + "\n".join(self.problems)


def _axe_findings(page, label: str, size: dict) -> list[str]:
    results = _axe.run(page).response
    return [
        f"{label} ({page.url}) at {size['width']}x{size['height']}: axe {violation['id']} "
        f"[{violation['impact']}] on {', '.join(str(node['target']) for node in violation['nodes'][:5])}"
        for violation in results["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]
