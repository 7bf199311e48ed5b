"""`make screenshots`: PNGs of the main pages on the demo clinic into docs/screenshots/
(SMP_SCREENSHOTS), shown in the README. Run by path; `make e2e` does not collect it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from PIL import Image

from cases import demo
from cases.models import Case, LaserSession
from tests.e2e.quality import DESKTOP, PHONE

pytestmark = pytest.mark.django_db(transaction=True)

OUT = Path(os.environ.get("SMP_SCREENSHOTS", "docs/screenshots"))


def shoot(page, base_url: str, path: str, name: str) -> None:
    page.goto(base_url + path)
    page.wait_for_load_state("networkidle")
    target = OUT / f"{name}.png"
    page.screenshot(path=str(target))
    # 256 colours are plenty for a page of text: about a third of the bytes in the repository.
    Image.open(target).convert("RGB").quantize(colors=256).save(target, optimize=True)


def test_screenshots(browser, live_server, log_in, transactional_db):
    OUT.mkdir(parents=True, exist_ok=True)
    call_command("seed_demo", clients=8, seed=1, verbosity=0)
    users = {role: User.objects.get(username=name) for role, name in demo.DEMO_USERNAMES.items()}
    client_case = Case.objects.get(client__user=users["client"])
    lasered = LaserSession.objects.filter(status="completed").order_by("-scheduled_at").first().case
    base = live_server.url

    desk = browser.new_context(viewport=DESKTOP)
    page = desk.new_page()
    log_in(users["staff"], at=page)
    shoot(page, base, "/", "staff-home")
    shoot(page, base, "/diary/", "diary")
    shoot(page, base, f"/cases/{client_case.public_id}/", "case-workspace")
    # A new session on a zone treated weeks ago: the interval rule's warning is on the form.
    shoot(page, base, f"/cases/{lasered.public_id}/laser-sessions/new/", "laser-form-warning")
    shoot(page, base, f"/cases/{client_case.public_id}/photos/compare/", "photo-comparison")
    log_in(users["manager"], at=page)
    shoot(page, base, "/review/", "review-queue")
    shoot(page, base, "/reports/laser-sessions/", "report-laser-sessions")
    desk.close()

    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = phone.new_page()
    log_in(users["client"], at=page)
    shoot(page, base, "/portal/", "portal-plan-phone")
    phone.close()
    assert len(list(OUT.glob("*.png"))) >= 8
