"""The review queue shows what was found at each follow-up, puts adverse findings first,
and reviews those one by one with a note (a rule of the service, not of the template)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from cases.choices import AdverseEventChoice, FollowUpStatus, Healing
from cases.models import AdverseEventKind, FollowUp
from cases.services.followups import followups_review
from tests import factories
from tests.helpers import frozen_at, messages_of

NOW = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
DAY = datetime.timedelta(days=1)
QUEUE_URL = reverse("cases:review_queue")
ADVERSE = "adverse-findings"  # the section of rows with adverse findings, each reviewed on its own


frozen_clock = frozen_at(NOW)


def completed(*, healing=Healing.AS_EXPECTED, effects=(), days_ago=5, **kwargs) -> FollowUp:
    followup = factories.CompletedFollowUpFactory(healing=healing, due_on=TODAY - days_ago * DAY, **kwargs)
    followup.side_effects.set(AdverseEventKind.objects.filter(code__in=effects))
    return followup


def section(response, slug: str = "awaiting-review") -> str:
    match = re.search(rf'<section id="{slug}".*?</section>', response.content.decode(), re.S)
    assert match, f"no section {slug}"
    return match.group(0)


def single(followup: FollowUp, note: str = "", version: int | None = None) -> dict:
    """What a row's own review form posts (its hidden inputs and the note in the row)."""
    return {
        "followups": str(followup.public_id),
        "single": "1",
        f"version-{followup.public_id}": str(version or followup.lock_version),
        "note": note,
    }


# --- what counts as an adverse finding -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("healing", "effects", "adverse"),
    [
        (Healing.AS_EXPECTED, (), False),
        # Transient reactions expected after laser are not adverse findings on their own.
        (
            Healing.AS_EXPECTED,
            (AdverseEventChoice.ERYTHEMA, AdverseEventChoice.OEDEMA, AdverseEventChoice.CRUSTING),
            False,
        ),
        (Healing.DELAYED, (), True),
        (Healing.COMPLICATION, (), True),
        (Healing.AS_EXPECTED, (AdverseEventChoice.BLISTERING,), True),
        (Healing.AS_EXPECTED, (AdverseEventChoice.CRUSTING, AdverseEventChoice.INFECTION), True),
    ],
)
def test_what_counts_as_an_adverse_finding(db, healing, effects, adverse):
    followup = completed(healing=healing, effects=effects)
    assert FollowUp.objects.with_adverse_findings().get(pk=followup.pk).has_adverse_findings is adverse
    assert FollowUp.objects.adverse().filter(pk=followup.pk).exists() is adverse


def test_a_missed_follow_up_has_no_adverse_findings(db):
    missed = factories.MissedFollowUpFactory()
    assert FollowUp.objects.with_adverse_findings().get(pk=missed.pk).has_adverse_findings is False


def flag(followup: FollowUp) -> bool:
    """The stored flag, as the database holds it now."""
    return FollowUp.objects.values_list("unexpected_side_effects", flat=True).get(pk=followup.pk)


def kind(code: str) -> AdverseEventKind:
    return AdverseEventKind.objects.get(code=code)


def test_the_unexpected_side_effects_flag_follows_every_change_to_the_side_effects(db):
    followup = completed()
    followup.side_effects.set([kind(AdverseEventChoice.CRUSTING)])
    assert flag(followup) is False
    followup.side_effects.add(kind(AdverseEventChoice.INFECTION))
    assert flag(followup) is True and followup.unexpected_side_effects is True
    followup.side_effects.remove(kind(AdverseEventChoice.INFECTION))
    assert flag(followup) is False and followup.unexpected_side_effects is False
    followup.side_effects.set([kind(AdverseEventChoice.BLISTERING), kind(AdverseEventChoice.ERYTHEMA)])
    assert flag(followup) is True
    followup.side_effects.clear()
    assert flag(followup) is False


def test_completing_a_follow_up_with_an_unexpected_side_effect_sets_the_flag(db, staff_user):
    from cases.services.followups import followup_complete

    followup = factories.FollowUpFactory(due_on=TODAY - 2 * DAY)
    done = followup_complete(
        followup=followup,
        completed_on=TODAY - DAY,
        healing=Healing.AS_EXPECTED,
        side_effects=[kind(AdverseEventChoice.HYPOPIGMENTATION)],
        by=staff_user,
    )
    assert done.unexpected_side_effects is True and flag(followup) is True
    assert FollowUp.objects.adverse().filter(pk=followup.pk).exists()


def test_the_migration_fills_the_flag_from_the_side_effects_recorded(db):
    import importlib

    from django.apps import apps

    fill = importlib.import_module("cases.migrations.0019_followup_unexpected_side_effects").fill
    adverse = completed(effects=(AdverseEventChoice.CRUSTING, AdverseEventChoice.INFECTION))
    expected_only = completed(effects=(AdverseEventChoice.CRUSTING,))
    FollowUp.objects.update(unexpected_side_effects=False)  # as the column was added
    fill(apps, None)
    assert (flag(adverse), flag(expected_only)) == (True, False)


# --- the row shows what was found ----------------------------------------------------------------------


def test_a_row_shows_healing_side_effects_satisfaction_and_notes(as_manager):
    followup = completed(
        healing=Healing.DELAYED,
        effects=(AdverseEventChoice.BLISTERING, AdverseEventChoice.CRUSTING),
        satisfaction=3,
        notes="Blisters on the left temple; advised a cold compress.",
    )

    html = section(as_manager.get(QUEUE_URL), ADVERSE)

    assert followup.case.reference in html
    assert '<span class="badge text-bg-danger">Delayed healing</span>' in html
    assert '<span class="badge text-bg-danger">Blistering</span>' in html
    assert '<span class="badge text-bg-secondary">Crusting / scabbing (expected)</span>' in html
    assert "satisfaction 3/5" in html
    assert escape("Notes: Blisters on the left temple; advised a cold compress.") in html
    assert "adverse findings</span>" in html


def test_a_row_without_findings_says_so(as_manager):
    completed(satisfaction=None)
    html = section(as_manager.get(QUEUE_URL))
    assert "Healing as expected" in html
    assert "No side effects recorded." in html
    assert "satisfaction not recorded" in html


def test_rows_with_adverse_findings_come_first_in_a_section_of_their_own_each_the_oldest_first(as_manager):
    fine_oldest = completed(days_ago=20)
    adverse_newer = completed(healing=Healing.COMPLICATION, days_ago=3)
    adverse_older = completed(effects=(AdverseEventChoice.SCARRING,), days_ago=10)
    missed = factories.MissedFollowUpFactory(due_on=TODAY - 15 * DAY)
    expected_only = completed(effects=(AdverseEventChoice.ERYTHEMA,), days_ago=12)

    response = as_manager.get(QUEUE_URL)

    page = response.content.decode()
    assert page.index(f'id="{ADVERSE}"') < page.index('id="awaiting-review"')
    adverse, others = section(response, ADVERSE), section(response)
    rows = [fine_oldest, adverse_newer, adverse_older, missed, expected_only]
    assert sorted((f for f in rows if f.case.reference in adverse), key=lambda f: adverse.index(f.case.reference)) == [
        adverse_older,
        adverse_newer,
    ]
    assert sorted((f for f in rows if f.case.reference in others), key=lambda f: others.index(f.case.reference)) == [
        fine_oldest,
        missed,
        expected_only,
    ]


# --- bulk review only for rows without adverse findings ------------------------------------------------------


def test_bulk_review_is_offered_only_for_rows_without_adverse_findings(as_manager):
    fine = completed(effects=(AdverseEventChoice.CRUSTING,))
    adverse = completed(healing=Healing.DELAYED)

    response = as_manager.get(QUEUE_URL)
    html = response.content.decode()

    assert f'value="{fine.public_id}" form="review-form"' in html
    assert f'value="{adverse.public_id}" form="review-form"' not in html
    # The adverse row has its own form: a note in the row and a button, posting that row alone.
    assert f'form="review-one-{adverse.public_id}"' in section(response, ADVERSE)
    own = re.search(
        rf'<form method="post" action="/review/" id="review-one-{adverse.public_id}">(.*?)</form>', html, re.S
    )
    assert own, "a form per row with adverse findings"
    assert f'name="followups" value="{adverse.public_id}"' in own.group(1)
    assert re.search(rf'<textarea [^>]*name="note"[^>]*required form="review-one-{adverse.public_id}"', html)
    for table in re.findall(r"<table.*?</table>", html, re.S):
        assert "<form" not in table


def test_only_rows_with_adverse_findings_means_no_bulk_form(as_manager):
    completed(healing=Healing.DELAYED)
    html = as_manager.get(QUEUE_URL).content.decode()
    assert 'id="review-form"' not in html


def test_a_bulk_review_including_a_row_with_adverse_findings_is_refused_naming_it(as_manager):
    fine = completed()
    adverse = completed(effects=(AdverseEventChoice.BLISTERING,), days_ago=7)

    response = as_manager.post(QUEUE_URL, {"followups": [fine.public_id, adverse.public_id], "note": "All fine."})

    assert response.status_code == 200
    html = section(response)
    assert "Nothing was reviewed" in html
    assert (
        escape(
            f"Healing check due 18 Nov 2026 (case {adverse.case.reference}, {adverse.case.client.full_name}) "
            "has adverse findings: review it on its own, with a note, not with other follow-ups."
        )
        in html
    )
    assert fine.case.reference in html
    assert escape(f"(case {fine.case.reference}") not in html, "only the refused row is named"
    assert FollowUp.objects.filter(reviewed_at__isnull=False).count() == 0, "nothing is half-saved"


def test_the_service_refuses_a_bulk_review_with_adverse_findings(manager_user):
    fine = completed()
    adverse = completed(healing=Healing.COMPLICATION)
    with pytest.raises(ValidationError, match="has adverse findings: review it on its own"):
        followups_review(followups=[fine, adverse], by=manager_user, note="Seen both.")
    assert not FollowUp.objects.filter(reviewed_at__isnull=False).exists()


def test_a_row_with_adverse_findings_needs_a_note(as_manager, manager_user):
    adverse = completed(healing=Healing.DELAYED)

    response = as_manager.post(QUEUE_URL, single(adverse, note="   "))

    assert response.status_code == 200
    html = section(response, ADVERSE)
    assert "Not reviewed:" in html
    assert "has adverse findings: write a review note saying what was done about them." in html
    adverse.refresh_from_db()
    assert adverse.reviewed_at is None
    with pytest.raises(ValidationError, match="write a review note"):
        followups_review(followups=[adverse], by=manager_user, note="")


def test_a_row_with_adverse_findings_is_reviewed_on_its_own_with_a_note(as_manager, manager_user):
    adverse = completed(healing=Healing.DELAYED, effects=(AdverseEventChoice.BLISTERING,))
    client = adverse.case.client.full_name

    response = as_manager.post(QUEUE_URL, single(adverse, note="Called the client: healing now, seen again in a week."))

    assert response.status_code == 302
    assert response["Location"] == f"{QUEUE_URL}#{ADVERSE}", "back to the section of the row reviewed"
    adverse.refresh_from_db()
    assert adverse.reviewed_by == manager_user
    assert adverse.review_note == "Called the client: healing now, seen again in a week."
    assert adverse.status == FollowUpStatus.COMPLETED
    assert messages_of(response) == [f"Healing check due 20 Nov 2026 for {client} marked as reviewed."]


def test_rows_without_adverse_findings_are_still_reviewed_together(as_manager):
    rows = [completed(), completed(effects=(AdverseEventChoice.ERYTHEMA,)), factories.MissedFollowUpFactory()]

    response = as_manager.post(QUEUE_URL, {"followups": [f.public_id for f in rows]})

    assert response.status_code == 302
    assert messages_of(response) == ["3 follow-ups marked as reviewed."]
    assert FollowUp.objects.filter(reviewed_at__isnull=False).count() == 3


# --- a row changed since the page was opened ----------------------------------------------------------------


def _someone_corrects_the_notes(followup: FollowUp, notes: str) -> None:
    """Another person's save after the manager opened the page."""
    other = FollowUp.objects.get(pk=followup.pk)
    other.notes = notes
    other.save()


@pytest.mark.history
def test_a_bulk_review_of_a_row_changed_since_the_page_was_opened_is_refused(as_manager):
    first, second = completed(notes="Fine."), completed(notes="Fine.")
    page = section(as_manager.get(QUEUE_URL))
    assert f'name="version-{first.public_id}" value="1" form="review-form"' in page
    _someone_corrects_the_notes(first, "Small blister on the crown.")

    data = {"followups": [first.public_id, second.public_id], f"version-{first.public_id}": "1"}
    data[f"version-{second.public_id}"] = "1"
    response = as_manager.post(QUEUE_URL, data)

    assert response.status_code == 200
    html = section(response)
    assert "was changed by someone else after you opened this page (Notes: Fine. → Small blister on the crown.)" in html
    assert not FollowUp.objects.filter(reviewed_at__isnull=False).exists()
    # The page now shows the new notes and version: ticking again reviews both.
    assert "Small blister on the crown." in html
    assert f'name="version-{first.public_id}" value="2" form="review-form"' in html


@pytest.mark.history
def test_a_refused_one_row_review_keeps_its_note_in_its_row(as_manager):
    adverse = completed(healing=Healing.DELAYED, notes="Slow.")
    _someone_corrects_the_notes(adverse, "Slow; now an infection.")

    response = as_manager.post(QUEUE_URL, single(adverse, note="Referred to the GP.", version=1))

    assert response.status_code == 200
    html = section(response, ADVERSE)
    assert "Not reviewed:" in html
    assert "Notes: Slow. → Slow; now an infection." in html
    assert re.search(rf'id="review-note-{adverse.public_id}">Referred to the GP.</textarea>', html)
    adverse.refresh_from_db()
    assert adverse.reviewed_at is None
