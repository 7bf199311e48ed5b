"""Nothing silently lost on follow-ups: forms opened on an older version are refused with
what the other person changed (complete, missed, reschedule, review), and posting the
"new follow-up" form twice, even at the same moment, makes one follow-up."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils.html import escape

from cases.choices import AdverseEventChoice, FollowUpKind, FollowUpStatus, Healing
from cases.models import AdverseEventKind, FollowUp
from cases.services.followups import followup_complete
from smpclinic.concurrency import StaleEdit
from tests import factories
from tests.helpers import frozen_at, messages_of
from tests.signin import signed_in

# A stale form names what changed since it was opened, read from the record's history.
pytestmark = pytest.mark.history

NOW = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
DAY = datetime.timedelta(days=1)
QUEUE_URL = reverse("cases:review_queue")


frozen_clock = frozen_at(NOW)


def complete_url(followup) -> str:
    return reverse("cases:followup_complete", kwargs={"followup_id": followup.public_id})


def missed_url(followup) -> str:
    return reverse("cases:followup_missed", kwargs={"followup_id": followup.public_id})


def reschedule_url(followup) -> str:
    return reverse("cases:followup_reschedule", kwargs={"followup_id": followup.public_id})


def create_url(case) -> str:
    return reverse("cases:followup_create", kwargs={"case_id": case.public_id})


def detail_url(case) -> str:
    return reverse("cases:case_detail", kwargs={"case_id": case.public_id})


def hidden(html: str | bytes, name: str, form_id: str | None = None, action: str | None = None) -> str:
    """The value of a hidden input the page carries (within the form with id `form_id`,
    or posting to `action`, if given)."""
    if isinstance(html, bytes):
        html = html.decode()
    if form_id:
        html = re.search(rf'<form [^>]*id="{form_id}".*?</form>', html, re.S).group(0)
    if action:
        html = re.search(rf'<form [^>]*action="{re.escape(action)}".*?</form>', html, re.S).group(0)
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name}"
    return match.group(1)


def logged_in(user) -> HttpClient:
    http = HttpClient()
    signed_in(user, http)
    return http


@pytest.fixture
def nina(db):
    return factories.StaffUserFactory(first_name="Nina", last_name="Nurse")


@pytest.fixture
def as_nina(nina):
    return logged_in(nina)


@pytest.fixture
def followup(db):
    return factories.FollowUpFactory(due_on=TODAY)


# --- complete: two stale copies through the views -------------------------------------------------------------


def test_a_second_completion_from_a_stale_form_is_refused_and_says_what_was_recorded(as_staff, as_nina, followup):
    copy_a = as_nina.get(complete_url(followup))
    copy_b = as_staff.get(complete_url(followup))
    version = hidden(copy_a.content, "lock_version")
    assert version == hidden(copy_b.content, "lock_version") == "1"
    blistering = AdverseEventKind.objects.get(code=AdverseEventChoice.BLISTERING)

    posted_a = as_nina.post(
        complete_url(followup),
        {
            "completed_on": "2026-11-25",
            "healing": Healing.DELAYED,
            "side_effects": [blistering.pk],
            "notes": "Blisters.",
            "lock_version": version,
        },
    )
    assert posted_a.status_code == 302

    data_b = {"completed_on": "2026-11-25", "healing": Healing.AS_EXPECTED, "notes": "Fine.", "lock_version": version}
    posted_b = as_staff.post(complete_url(followup), data_b)

    assert posted_b.status_code == 200
    html = posted_b.content.decode()
    assert "saved this follow up at 09:00 on 25 Nov 2026, after you opened this form, so nothing was saved." in html
    assert escape("Status: Scheduled → Completed") in html
    assert escape("Healing: (empty) → Delayed healing") in html
    assert escape("Side effects: (none) → Blistering") in html
    followup.refresh_from_db()
    assert (followup.healing, followup.notes, followup.completed_by.first_name) == (
        Healing.DELAYED,
        "Blisters.",
        "Nina",
    )
    assert list(followup.side_effects.values_list("code", flat=True)) == [AdverseEventChoice.BLISTERING]

    # Saving the re-shown form again cannot record a second completion over the first.
    again = as_staff.post(complete_url(followup), {**data_b, "lock_version": hidden(html, "lock_version")})
    assert again.status_code == 302
    assert messages_of(again)[-1] == "Only a scheduled follow-up can be completed; this one is completed."
    followup.refresh_from_db()
    assert followup.notes == "Blisters."


def test_completing_after_someone_moved_the_due_date_keeps_both(as_staff, followup):
    page = as_staff.get(complete_url(followup))
    other = FollowUp.objects.get(pk=followup.pk)  # e.g. the session it follows up was moved
    other.due_on = TODAY - DAY
    other.save()

    data = {"completed_on": "2026-11-25", "healing": Healing.AS_EXPECTED, "satisfaction": "5", "notes": "Fine."}
    refused = as_staff.post(complete_url(followup), {**data, "lock_version": hidden(page.content, "lock_version")})

    assert refused.status_code == 200
    assert escape("Due on: 2026-11-25 → 2026-11-24") in refused.content.decode()
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.SCHEDULED
    new_version = hidden(refused.content, "lock_version")
    assert new_version == "2"

    saved = as_staff.post(complete_url(followup), {**data, "lock_version": new_version})

    assert saved.status_code == 302
    followup.refresh_from_db()
    assert (followup.status, followup.due_on, followup.satisfaction) == (FollowUpStatus.COMPLETED, TODAY - DAY, 5)


def test_marking_missed_from_a_page_opened_before_a_completion_is_refused(as_staff, as_nina, followup):
    case_page = as_staff.get(detail_url(followup.case))
    version = hidden(case_page.content, "lock_version", action=missed_url(followup))
    assert version == "1"
    as_nina.post(
        complete_url(followup), {"completed_on": "2026-11-25", "healing": Healing.AS_EXPECTED, "lock_version": "1"}
    )

    response = as_staff.post(missed_url(followup), {"lock_version": version})

    assert response.status_code == 302
    message = messages_of(response)[-1]
    assert message.startswith(
        "Not marked as missed: this follow-up was changed by Nina Nurse after you opened this page"
    )
    assert "Status: Scheduled → Completed" in message
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.COMPLETED


def test_completing_from_a_form_opened_before_it_was_marked_missed_is_refused(as_staff, as_nina, followup):
    form_page = as_staff.get(complete_url(followup))
    as_nina.post(missed_url(followup), {"lock_version": "1"})

    response = as_staff.post(
        complete_url(followup),
        {
            "completed_on": "2026-11-25",
            "healing": Healing.AS_EXPECTED,
            "lock_version": hidden(form_page.content, "lock_version"),
        },
    )

    assert response.status_code == 200
    assert escape("Status: Scheduled → Missed") in response.content.decode()
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.MISSED and followup.completed_on is None


# --- reschedule and review of a missed follow-up -----------------------------------------------------------------


def test_rescheduling_from_a_form_opened_before_a_review_shows_it_and_then_keeps_both(as_staff, as_manager):
    missed = factories.MissedFollowUpFactory()
    form_page = as_staff.get(reschedule_url(missed))
    queue = as_manager.get(QUEUE_URL).content.decode()
    reviewed = as_manager.post(
        QUEUE_URL,
        {
            "followups": [missed.public_id],
            f"version-{missed.public_id}": hidden(queue, f"version-{missed.public_id}"),
            "note": "Client rang: away until December.",
        },
    )
    assert reviewed.status_code == 302

    data = {"due_on": "2026-12-09", "lock_version": hidden(form_page.content, "lock_version")}
    refused = as_staff.post(reschedule_url(missed), data)

    assert refused.status_code == 200
    html = refused.content.decode()
    assert escape("Review note: (empty) → Client rang: away until December.") in html
    assert not FollowUp.objects.filter(rescheduled_from=missed).exists()

    saved = as_staff.post(reschedule_url(missed), {**data, "lock_version": hidden(html, "lock_version")})

    assert saved.status_code == 302
    new = FollowUp.objects.get(rescheduled_from=missed)
    assert new.due_on == datetime.date(2026, 12, 9)
    missed.refresh_from_db()
    assert missed.review_note == "Client rang: away until December."
    assert missed.reviewed_at is not None


def test_the_queues_forms_carry_each_rows_version(as_manager):
    overdue = factories.FollowUpFactory(due_on=TODAY - 3 * DAY)
    missed = factories.MissedFollowUpFactory()
    html = as_manager.get(QUEUE_URL).content.decode()
    assert hidden(html, "lock_version", form_id=f"missed-{overdue.public_id}") == "1"
    assert hidden(html, "lock_version", form_id=f"reschedule-{missed.public_id}") == "1"


# --- two people at the same moment (threads; PostgreSQL row locks, SQLite serialised writes) --------------------


@pytest.mark.django_db(transaction=True)
def test_two_stale_completions_at_once_exactly_one_wins():
    followup = factories.FollowUpFactory(due_on=TODAY)
    people = [factories.StaffUserFactory(), factories.StaffUserFactory()]
    outcomes: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def complete(person, healing) -> None:
        copy = FollowUp.objects.select_related("case").get(pk=followup.pk)  # each opened the form at version 1
        try:
            start.wait(timeout=10)
            followup_complete(followup=copy, completed_on=TODAY, healing=healing, by=person)
            outcomes.append(healing)
        except StaleEdit:
            outcomes.append("stale")
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=complete, args=(people[0], Healing.DELAYED)),
        threading.Thread(target=complete, args=(people[1], Healing.AS_EXPECTED)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    winners = [outcome for outcome in outcomes if outcome != "stale"]
    assert len(winners) == 1 and outcomes.count("stale") == 1, outcomes
    followup.refresh_from_db()
    assert followup.healing == winners[0]
    assert followup.lock_version == 2
    assert followup.history.filter(status=FollowUpStatus.COMPLETED).count() == 1


# --- double submit -------------------------------------------------------------------------------------------------


def test_posting_the_new_follow_up_form_twice_makes_one(as_staff, staff_user):
    case = factories.CaseFactory()
    page = as_staff.get(create_url(case))
    data = {
        "kind": FollowUpKind.HEALING_CHECK,
        "due_on": "2026-12-09",
        "assignee": staff_user.pk,
        "submission_token": hidden(page.content, "submission_token"),
    }

    first = as_staff.post(create_url(case), data)
    second = as_staff.post(create_url(case), data)

    assert first.status_code == second.status_code == 302
    assert second["Location"] == detail_url(case)
    assert FollowUp.objects.filter(case=case).count() == 1
    assert messages_of(second)[-1] == "This follow-up was already saved."
    # A fresh form (a new token) schedules another on purpose.
    fresh = as_staff.get(create_url(case))
    as_staff.post(create_url(case), {**data, "submission_token": hidden(fresh.content, "submission_token")})
    assert FollowUp.objects.filter(case=case).count() == 2


PARALLEL_POSTS = 4


@pytest.mark.django_db(transaction=True)
def test_parallel_posts_of_one_new_follow_up_form_make_one():
    staff = factories.StaffUserFactory()
    case = factories.CaseFactory()
    browsers = [logged_in(staff) for _ in range(PARALLEL_POSTS)]
    page = browsers[0].get(create_url(case))
    data = {
        "kind": FollowUpKind.POST_LASER_CHECK,
        "due_on": "2026-12-09",
        "assignee": staff.pk,
        "submission_token": hidden(page.content, "submission_token"),
    }
    statuses: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(PARALLEL_POSTS)

    def post(browser) -> None:
        try:
            start.wait(timeout=10)
            statuses.append(browser.post(create_url(case), data).status_code)
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(browser,)) for browser in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert statuses == [302] * PARALLEL_POSTS
    assert FollowUp.objects.filter(case=case).count() == 1
    assert str(FollowUp.objects.get(case=case).submission_token) == data["submission_token"]
