"""The app's language: British English, with Django's translation machinery switched off
(settings.USE_I18N): dates are still read and written the British way."""

import datetime

import pytest
from django import forms
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format


def test_dates_are_read_day_first():
    field = forms.DateField()
    assert field.clean("25/12/2026") == datetime.date(2026, 12, 25)
    assert field.clean("05/09/2026") == datetime.date(2026, 9, 5)


def test_dates_are_written_with_english_month_names():
    day = datetime.date(2026, 9, 5)
    assert date_format(day, "j M Y") == "5 Sep 2026"
    assert date_format(day, "l j F Y") == "Saturday 5 September 2026"
    assert date_format(day) == "5 Sep 2026"


def test_the_language_is_british_english_without_a_request():
    assert translation.get_language() == "en-gb"
    assert not translation.get_language_bidi()


@pytest.mark.django_db
def test_djangos_own_messages_are_in_english(client):
    response = client.post(reverse("login"), {"username": "", "password": ""})
    assert "This field is required." in response.content.decode()
