"""The load scenario (run by bench/load.py, which sets up the people and cases it reads).

Three kinds of simulated people, as many of each as bench/load.py made accounts for:
- staff: the home page, the client list and searches, case workspaces, and booking a
  laser session (the form read, then posted as a person would submit it) at most once a
  minute each, on a case no one else books on;
- managers: the review queue, the reports and their home page (plans to approve);
- clients: their portal — plan, appointments, photos, aftercare.
Each signs in through the real pages: password, then a TOTP code computed from their
authenticator's key where their account has one. Each successful booking's submission
token is kept and written to $BENCH_TOKENS when the run stops, for the database check.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import sys
import time
from pathlib import Path

from locust import HttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # locust puts bench/ first, not the checkout

from bench.browser import form_fields, totp

TIMEOUT = 60
SEARCHES = ["Smi", "Jon", "Pat", "Will", "Bro", "Tay", "Kha", "Ali", "@example", "SMP-20"]
BOOKING_EVERY_S = 60

_scenario: dict = {}
_accounts: dict[str, itertools.count] = {}
_tokens: list[str] = []


def scenario() -> dict:
    if not _scenario:
        _scenario.update(json.loads(Path(os.environ["BENCH_SCENARIO"]).read_text()))
        _scenario["bookings"] = list(reversed(_scenario["bookings"]))
    return _scenario


def _accounts_of(role: str) -> int:
    """How many simulated people of a role: one per account set up (a TOTP code works once)."""
    return len(scenario()["people"][role]) if os.environ.get("BENCH_SCENARIO") else 1


class _Person(HttpUser):
    abstract = True
    role = ""
    wait_time = between(1, 4)

    def on_start(self):
        accounts = scenario()["people"][self.role]
        counter = _accounts.setdefault(self.role, itertools.count())
        self.account = accounts[next(counter) % len(accounts)]
        self.sign_in()

    def _csrf(self) -> str:
        return self.client.cookies.get("csrftoken", "")

    def sign_in(self):
        self.client.get("/login/", name="sign-in: page", timeout=TIMEOUT)
        data = {"username": self.account["username"], "password": scenario()["password"]}
        data["csrfmiddlewaretoken"] = self._csrf()
        with self.client.post("/login/", data, name="sign-in: password", timeout=TIMEOUT, catch_response=True) as r:
            expected = "/login/code/" in r.url if self.account["key"] else "/login/" not in r.url
            if not expected:
                r.failure(f"the password step ended on {r.url}")
        if self.account["key"]:
            code = {"code": totp(self.account["key"]), "csrfmiddlewaretoken": self._csrf(), "next": "/"}
            with self.client.post(
                "/login/code/", code, name="sign-in: code", timeout=TIMEOUT, catch_response=True
            ) as r:
                if "/login/" in r.url:
                    r.failure(f"the code was refused: still on {r.url}")

    def get(self, url: str, name: str | None = None):
        with self.client.get(url, name=name or url, timeout=TIMEOUT, catch_response=True) as response:
            if "/login/" in response.url:
                response.failure("signed out")


class Staff(_Person):
    role = "staff"
    fixed_count = _accounts_of("staff")

    def on_start(self):
        super().on_start()
        self.next_booking = time.monotonic() + random.uniform(5, BOOKING_EVERY_S)
        self.cases = [b["url"].split("laser-sessions")[0] for b in scenario()["bookings"][:50]]

    @task(3)
    def home(self):
        self.get("/", "staff home")

    @task(2)
    def client_list(self):
        self.get("/clients/", "client list")

    @task(3)
    def search(self):
        self.get(f"/clients/?q={random.choice(SEARCHES)}", "client search")

    @task(3)
    def case_workspace(self):
        if self.cases:
            self.get(random.choice(self.cases), "case workspace")

    @task(2)
    def book_laser_session(self):
        bookings = scenario()["bookings"]
        if time.monotonic() < self.next_booking or not bookings:
            return
        self.next_booking = time.monotonic() + BOOKING_EVERY_S
        booking = bookings.pop()
        page = self.client.get(booking["url"], name="laser session form", timeout=TIMEOUT)
        data = form_fields(page.text)
        data.update({field: booking[field] for field in ("status", "scheduled_at", "technician", "room")})
        with self.client.post(
            booking["url"],
            data,
            name="laser session: book",
            allow_redirects=False,
            timeout=TIMEOUT,
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                _tokens.append(data["submission_token"])
            else:
                refusal = re.findall(r"<li>(.*?)</li>", response.text)[:2]
                response.failure(f"booking refused ({response.status_code}): {refusal}")


class Manager(_Person):
    role = "manager"
    fixed_count = _accounts_of("manager")

    @task(3)
    def review_queue(self):
        self.get("/review/", "review queue")

    @task(2)
    def home(self):
        self.get("/", "manager home")

    @task(1)
    def reports(self):
        self.get("/reports/", "report index")
        slug = random.choice(["cases", "issues", "laser-sessions", "adverse-events", "follow-ups", "satisfaction"])
        self.get(f"/reports/{slug}/", "report (12 months)")


class Client(_Person):
    role = "client"
    fixed_count = _accounts_of("client")

    @task(3)
    def plan(self):
        self.get("/portal/", "portal plan")

    @task(2)
    def appointments(self):
        self.get("/portal/appointments/", "portal appointments")

    @task(1)
    def photos(self):
        self.get("/portal/photos/", "portal photos")

    @task(1)
    def aftercare(self):
        self.get("/portal/aftercare/", "portal aftercare")


@events.quitting.add_listener
def _write_tokens(**_kwargs):
    with open(os.environ["BENCH_TOKENS"], "w") as f:
        json.dump(_tokens, f)
