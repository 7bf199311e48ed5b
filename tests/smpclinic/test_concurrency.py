"""Nothing silently lost: stale edit forms, parallel saves and double submits.

The forms are read from the pages and posted back as a browser would (tests.formdata),
so a hidden field the page forgets to render fails here.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import Case, Client, Consultation, Issue, RegretReason
from cases.services.clients import client_update
from smpclinic.concurrency import StaleEdit, create_once
from tests import factories
from tests.formdata import form_data
from tests.signin import signed_in
from tests.threads import race

# A stale form names what changed since it was opened, read from the record's history.
pytestmark = [pytest.mark.django_db, pytest.mark.history]


def _edit_client(client) -> str:
    return reverse("cases:client_edit", kwargs={"client_id": client.public_id})


def _errors(response) -> str:
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


# --- The model guard ------------------------------------------------------------------------


def test_saving_a_stale_copy_raises_and_leaves_the_row_as_it_was():
    client = factories.ClientFactory(allergies="")
    stale = Client.objects.get(pk=client.pk)
    client.allergies = "Severe penicillin allergy"
    client.save()

    stale.address = "2 New Road"
    with pytest.raises(StaleEdit):
        stale.save()

    client.refresh_from_db()
    assert client.allergies == "Severe penicillin allergy"
    assert client.address != "2 New Road"
    assert stale.lock_version == 1  # unchanged by the refused save
    assert client.lock_version == 2


def test_every_save_moves_the_version_on_including_update_fields():
    client = factories.ClientFactory()
    assert client.lock_version == 1
    client.phone = "07700 900999"
    client.save()
    client.archive(by=factories.StaffUserFactory(), reason="Moved away")  # save(update_fields=...)
    client.refresh_from_db()
    assert client.lock_version == 3
    assert client.archive_reason == "Moved away"


def test_stale_edit_names_what_the_other_person_changed():
    manager = factories.ManagerUserFactory(first_name="Dana", last_name="Reed")
    client = factories.ClientFactory(active_infection=False)
    stale = Client.objects.get(pk=client.pk)
    client._history_user = manager
    client.active_infection = True
    client.save()

    with pytest.raises(StaleEdit) as refused:
        stale.save()

    message = refused.value.messages[0]
    assert "Dana Reed saved this client" in message
    assert "Active infection" in message and "no → yes" in message
    assert [c.field for c in refused.value.changes] == ["active_infection"]


# --- Through the pages: the issue's two examples ---------------------------------------------


def test_a_stale_client_form_cannot_undo_a_flag_ticked_since(as_staff, as_manager):
    """Staff ticks "active infection"; a manager then saves an address change from a form
    opened earlier: refused, the flag stays, and saving the re-shown form keeps both."""
    client = factories.ClientFactory(active_infection=False, allergies="")
    staff_form = form_data(as_staff.get(_edit_client(client)).content)
    manager_form = form_data(as_manager.get(_edit_client(client)).content)
    assert staff_form["lock_version"] == manager_form["lock_version"] == "1"

    response = as_staff.post(_edit_client(client), {**staff_form, "active_infection": "on"})
    assert response.status_code == 302

    response = as_manager.post(_edit_client(client), {**manager_form, "address": "2 New Road"})
    assert response.status_code == 200
    assert "after you opened this form, so nothing was saved" in _errors(response)
    assert "Active infection or herpes at or near the site: no → yes" in _errors(response)
    client.refresh_from_db()
    assert client.active_infection is True
    assert client.address != "2 New Road"

    # The re-shown form carries the other person's change, this user's own, and the new version.
    again = form_data(response.content)
    assert again["active_infection"] == "on"
    assert again["address"] == "2 New Road"
    assert again["lock_version"] == "2"
    assert as_manager.post(_edit_client(client), again).status_code == 302
    client.refresh_from_db()
    assert (client.active_infection, client.address) == (True, "2 New Road")


def test_a_stale_form_changing_the_same_field_keeps_this_users_value_for_review(as_staff, as_manager):
    client = factories.ClientFactory(allergies="")
    first = form_data(as_staff.get(_edit_client(client)).content)
    second = form_data(as_manager.get(_edit_client(client)).content)
    as_staff.post(_edit_client(client), {**first, "allergies": "Severe penicillin allergy"})

    response = as_manager.post(_edit_client(client), {**second, "allergies": "Latex"})

    assert "Allergies: (empty) → Severe penicillin allergy" in _errors(response)
    assert form_data(response.content)["allergies"] == "Latex"  # theirs is in the message
    client.refresh_from_db()
    assert client.allergies == "Severe penicillin allergy"


def test_a_stale_case_form_keeps_regret_reasons_added_since(as_staff, as_manager):
    case = factories.CaseFactory()
    url = reverse("cases:case_edit", kwargs={"case_id": case.public_id})
    first = form_data(as_staff.get(url).content)
    second = form_data(as_manager.get(url).content)
    reason = RegretReason.objects.get(code="suboptimal_result")
    assert as_staff.post(url, {**first, "regret_reasons": [str(reason.pk)]}).status_code == 302

    response = as_manager.post(url, {**second, "goal": "Lighter temples"})

    assert response.status_code == 200
    assert "Reasons for regret" in _errors(response) or "Regret reasons" in _errors(response)
    case.refresh_from_db()
    assert list(case.regret_reasons.values_list("code", flat=True)) == ["suboptimal_result"]
    again = form_data(response.content)
    assert as_manager.post(url, again).status_code == 302
    case.refresh_from_db()
    assert case.goal == "Lighter temples"
    assert list(case.regret_reasons.values_list("code", flat=True)) == ["suboptimal_result"]


@pytest.mark.parametrize("kind", ["consultation", "issue"])
def test_stale_consultation_and_issue_forms_are_refused(as_staff, as_manager, kind):
    if kind == "consultation":
        record = factories.ConsultationFactory()
        url, field, model = reverse("cases:consultation_edit", args=[record.public_id]), "findings", Consultation
    else:
        record = factories.IssueFactory()
        url, field, model = reverse("cases:issue_edit", args=[record.public_id]), "description", Issue
    first = form_data(as_staff.get(url).content)
    second = form_data(as_manager.get(url).content)
    assert as_staff.post(url, {**first, field: "Recorded first"}).status_code == 302

    response = as_manager.post(url, {**second, field: "Recorded second"})

    assert response.status_code == 200
    assert "nothing was saved" in _errors(response)
    assert getattr(model.objects.get(pk=record.pk), field) == "Recorded first"


# --- Two processes at once ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_parallel_saves_of_the_same_version_one_wins():
    client = factories.ClientFactory(active_infection=False, address="1 High Street")

    def tick_infection():
        return client_update(client=Client.objects.get(pk=client.pk), active_infection=True)

    def change_address():
        return client_update(client=Client.objects.get(pk=client.pk), address="2 New Road")

    copies = [Client.objects.get(pk=client.pk) for _ in range(2)]
    results, errors = race(
        lambda: client_update(client=copies[0], active_infection=True),
        lambda: client_update(client=copies[1], address="2 New Road"),
    )

    assert len(results) == 1
    assert len(errors) == 1 and isinstance(errors[0], StaleEdit)
    client.refresh_from_db()
    assert client.lock_version == 2
    won = results[0]
    assert (client.active_infection, client.address) == (won.active_infection, won.address)
    del tick_infection, change_address


# --- Double submit -----------------------------------------------------------------------------


def test_posting_the_same_new_consultation_twice_records_it_once(as_staff):
    case = factories.CaseFactory()
    url = reverse("cases:consultation_create", kwargs={"case_id": case.public_id})
    data = form_data(as_staff.get(url).content, held_at="2026-03-01T10:00", findings="Dark hairline")
    assert data["submission_token"]

    first = as_staff.post(url, data, follow=True)
    second = as_staff.post(url, data, follow=True)

    assert Consultation.objects.filter(case=case).count() == 1
    assert "Consultation recorded." in first.content.decode()
    assert "This consultation was already saved." in second.content.decode()
    assert form_data(as_staff.get(url).content)["submission_token"] != data["submission_token"]


@pytest.mark.django_db(transaction=True)
def test_parallel_posts_of_one_consultation_form_record_one(staff_user):
    from django.test import Client as HttpClient

    case = factories.CaseFactory()
    url = reverse("cases:consultation_create", kwargs={"case_id": case.public_id})
    browsers = [HttpClient() for _ in range(4)]
    for browser in browsers:
        signed_in(staff_user, browser)
    data = form_data(browsers[0].get(url).content, held_at="2026-03-01T10:00", findings="Dark hairline")

    results, errors = race(*[lambda b=b: b.post(url, data).status_code for b in browsers])

    assert errors == []
    assert results == [302] * 4
    assert Consultation.objects.filter(case=case).count() == 1


def test_create_once_answers_with_the_first_record_and_reraises_other_integrity_errors():
    case = factories.CaseFactory()
    staff = factories.StaffUserFactory()
    token = "6a1f6f3e-7c55-4a3c-9d1e-2b1c3f4a5b6c"

    def make():
        return Consultation.objects.create(case=case, staff=staff, kind="initial", submission_token=token)

    first, created = create_once(Consultation, token, make)
    again, created_again = create_once(Consultation, token, make)

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Case.objects.count() == 1


# --- A record with no history at the form's version (imported or bulk-loaded rows) -------------


def _without_history(client) -> None:
    client.history.all().delete()


def test_a_stale_form_on_a_record_without_history_shows_the_stored_values_beside_the_users(as_staff, as_manager):
    """With no history entry to compare against, nobody can tell whose edit each difference
    is: the form keeps this user's values, the message lists the stored ones beside them,
    and nothing is saved until the user saves again having seen both."""
    client = factories.ClientFactory(active_infection=False, allergies="", address="1 Old Road")
    _without_history(client)
    staff_form = form_data(as_staff.get(_edit_client(client)).content)
    manager_form = form_data(as_manager.get(_edit_client(client)).content)
    as_staff.post(_edit_client(client), {**staff_form, "active_infection": "on"})
    _without_history(client)  # the staff save wrote an entry at version 2 only; none at 1 either way

    response = as_manager.post(_edit_client(client), {**manager_form, "address": "2 New Road"})

    assert response.status_code == 200
    errors = _errors(response)
    assert "after you opened this form, so nothing was saved" in errors
    assert "Active infection or herpes at or near the site: yes (yours: no)" in errors
    assert "Address: 1 Old Road (yours: 2 New Road)" in errors
    assert "Their changes" not in errors  # it does not claim to know who changed what
    client.refresh_from_db()
    assert (client.active_infection, client.address) == (True, "1 Old Road")
    again = form_data(response.content)
    assert again["address"] == "2 New Road"
    assert "active_infection" not in again  # the user's own (unticked) value, shown against the stored one
    assert again["lock_version"] == "2"


def test_stale_edit_without_a_base_lists_differences_from_the_users_copy():
    client = factories.ClientFactory(allergies="", phone="07700 900001")
    _without_history(client)
    stale = Client.objects.get(pk=client.pk)
    Client.objects.filter(pk=client.pk).update(allergies="Latex", lock_version=2)

    stale.phone = "07700 900002"
    with pytest.raises(StaleEdit) as refused:
        stale.save()

    assert refused.value.base_known is False
    assert {c.field: (c.before, c.after) for c in refused.value.changes} == {
        "allergies": ("", "Latex"),
        "phone": ("07700 900002", "07700 900001"),
    }


def test_a_textarea_sent_back_unchanged_with_a_browsers_crlf_is_no_change(as_staff):
    """Browsers send a textarea's lines with CRLF: stored with LF (as typed elsewhere or
    imported), text saved unchanged must not count as changed."""
    client = factories.ClientFactory(address="1 High Street\nLeeds", internal_notes="Prefers\nmornings")
    url = reverse("cases:client_edit", kwargs={"client_id": client.public_id})
    data = form_data(
        as_staff.get(url).content,
        address="1 High Street\r\nLeeds",
        internal_notes="Prefers\r\nmornings",
        phone="07700 900123",
    )

    as_staff.post(url, data)

    stored = Client.objects.get(pk=client.pk)
    assert (stored.address, stored.internal_notes, stored.phone) == (
        "1 High Street\nLeeds",
        "Prefers\nmornings",
        "07700 900123",
    )
    latest, before = stored.history.order_by("-history_date", "-history_id")[:2]
    assert latest.diff_against(before).changed_fields == ["phone"]
