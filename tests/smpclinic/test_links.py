"""A Link makes the same URLs as reverse, one row at a time."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from smpclinic.links import Link


@pytest.mark.parametrize(
    ("viewname", "kwarg"),
    [
        ("cases:case_detail", "case_id"),
        ("cases:client_detail", "client_id"),
        ("cases:plan_review", "plan_id"),
        ("cases:followup_complete", "followup_id"),
        ("cases:booking_reschedule", "booking_id"),
    ],
)
def test_a_link_is_the_reversed_url_with_the_row_id_in_it(viewname, kwarg):
    link = Link(viewname, kwarg)
    for public_id in (uuid.uuid4(), uuid.uuid4()):
        assert link(public_id) == reverse(viewname, kwargs={kwarg: public_id})


def test_a_link_can_end_in_a_fragment():
    public_id = uuid.uuid4()
    link = Link("cases:case_detail", "case_id", "#follow-ups")
    assert link(public_id) == reverse("cases:case_detail", kwargs={"case_id": public_id}) + "#follow-ups"


def test_a_link_keeps_the_script_prefix(settings):
    from django.urls import set_script_prefix

    public_id = uuid.uuid4()
    set_script_prefix("/clinic/")
    try:
        link = Link("cases:case_detail", "case_id")
        assert link(public_id) == f"/clinic/cases/{public_id}/"
        assert link(public_id) == reverse("cases:case_detail", kwargs={"case_id": public_id})
    finally:
        set_script_prefix("/")
