"""People in the journeys: each signed in through the real login form in a browser context
of their own (one shared browser), each page watched by tests/e2e/quality.py."""

from __future__ import annotations

from dataclasses import dataclass

from tests.e2e.quality import DESKTOP, PHONE, Watch


@dataclass
class Actor:
    """A person at a browser: `go` opens a path of the live server; `check` runs the quality checks."""

    page: object
    watch: Watch
    base_url: str

    def go(self, path: str):
        response = self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("load")
        return response

    def check(self, label: str) -> None:
        self.watch.check(label)

    def click_and_wait(self, locator) -> None:
        locator.click()
        self.page.wait_for_load_state("load")


class Cast:
    """Makes actors; closes their contexts at the end. Any problem a page logged fails the test."""

    def __init__(self, browser, base_url: str, log_in):
        self.browser = browser
        self.base_url = base_url
        self.log_in = log_in
        self.actors: list[Actor] = []
        self.contexts = []

    def new(self, *, phone: bool = False) -> Actor:
        if phone:
            context = self.browser.new_context(
                viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, accept_downloads=True
            )
        else:
            context = self.browser.new_context(viewport=DESKTOP, accept_downloads=True)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        actor = Actor(page=page, watch=Watch(page, portal=phone), base_url=self.base_url)
        self.actors.append(actor)
        return actor

    def signed_in(self, user, *, phone: bool = False) -> Actor:
        actor = self.new(phone=phone)
        self.log_in(user, at=actor.page)
        return actor

    def assert_clean(self) -> None:
        problems = [problem for actor in self.actors for problem in actor.watch.problems]
        assert not problems, "Problems on the pages visited:\n" + "\n".join(problems)

    def close(self) -> None:
        for context in self.contexts:
            context.close()
