"""Camera dates are not trusted blindly, and comparisons open on photos taken within the case.

A camera date more than 30 days before the case opened (an old photo, or a clock never
set) or in the future is queried at upload: the batch is refused with the files named,
unless a date is entered for it or staff tick "Use the camera dates". Comparison pages,
staff and portal alike, open on photos taken on or after the day the case opened; older
photos are compared only when chosen.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cases.choices import PhotoAngle, PhotoKind
from cases.models import Photo
from cases.services.photos import photo_upload
from tests import factories
from tests.cases.test_photo_processing import phone_jpeg, stored_files
from tests.helpers import assert_queries_hold, sql_of_get

DAY = datetime.timedelta(days=1)
OPENED = datetime.date(2026, 2, 10)


def camera_file(name: str, day: datetime.date | None) -> SimpleUploadedFile:
    taken = day.strftime("%Y:%m:%d 09:30:00") if day else None
    return SimpleUploadedFile(name, phone_jpeg(taken=taken), content_type="image/jpeg")


@pytest.fixture
def case(client_a):
    return factories.CaseFactory(client=client_a, opened_on=OPENED)


def _upload(case, files, **options):
    fields = {"kind": PhotoKind.BEFORE, "angle": PhotoAngle.FRONT, "uploaded_by": None, **options}
    return photo_upload(case=case, files=files, **fields)


# --------------------------------------------------------------------- the service


def test_a_camera_date_years_before_the_case_opened_refuses_the_batch(case, settings):
    files = [camera_file("recent.jpg", OPENED + 5 * DAY), camera_file("IMG_2008.jpg", datetime.date(2008, 5, 12))]
    with pytest.raises(ValidationError) as refused:
        _upload(case, files)
    assert refused.value.message_dict == {
        "use_camera_date": [
            "The camera recorded 12 May 2008 as the day “IMG_2008.jpg” was taken, more than 30 days before this "
            "case opened (10 Feb 2026): an older photo, or a camera whose clock is wrong. Enter the date taken, "
            "or tick “Use the camera dates” if it is right."
        ]
    }
    assert Photo.objects.count() == 0
    assert stored_files(settings) == []


def test_every_queried_file_is_named(case):
    files = [camera_file("2008.jpg", datetime.date(2008, 5, 12)), camera_file("2015.jpg", datetime.date(2015, 8, 1))]
    with pytest.raises(ValidationError) as refused:
        _upload(case, files)
    messages = refused.value.message_dict["use_camera_date"]
    assert len(messages) == 2
    assert "“2008.jpg”" in messages[0] and "“2015.jpg”" in messages[1]


@pytest.mark.parametrize(
    ("days_before", "queried"),
    [(0, False), (20, False), (30, False), (31, True), (365 * 3, True)],
)
def test_the_margin_before_the_case_opened(case, days_before, queried):
    day = OPENED - days_before * DAY
    if queried:
        with pytest.raises(ValidationError, match="more than 30 days before this case opened"):
            _upload(case, [camera_file("photo.jpg", day)])
    else:
        assert _upload(case, [camera_file("photo.jpg", day)]).photos[0].taken_on == day


def test_ticking_use_the_camera_dates_keeps_them(case):
    files = [camera_file("IMG_2008.jpg", datetime.date(2008, 5, 12)), camera_file("recent.jpg", OPENED + DAY)]
    result = _upload(case, files, use_camera_date=True)
    assert [photo.taken_on for photo in result.photos] == [datetime.date(2008, 5, 12), OPENED + DAY]


def test_a_date_entered_for_the_batch_is_used_instead(case):
    entered = OPENED + 3 * DAY
    result = _upload(case, [camera_file("IMG_2008.jpg", datetime.date(2008, 5, 12))], taken_on=entered)
    assert Photo.objects.get(pk=result.photos[0].pk).taken_on == entered


def test_a_camera_date_in_the_future_cannot_be_confirmed(case, settings):
    future = timezone.localdate() + 40 * DAY
    with pytest.raises(ValidationError) as refused:
        _upload(case, [camera_file("wrong-clock.jpg", future)], use_camera_date=True)
    (message,) = refused.value.message_dict["use_camera_date"]
    assert "“wrong-clock.jpg”" in message
    assert message.endswith("which is in the future: enter the date taken.")
    assert Photo.objects.count() == 0
    assert stored_files(settings) == []


def test_without_a_camera_date_the_photo_is_dated_today(case):
    assert _upload(case, [camera_file("scan.jpg", None)]).photos[0].taken_on == timezone.localdate()


# ----------------------------------------------------------------- the upload page


def _post(http, case, *files, **fields):
    data = {"images": list(files), "kind": PhotoKind.BEFORE, "angle": PhotoAngle.FRONT, "taken_on": "", **fields}
    return http.post(reverse("cases:photo_upload", kwargs={"case_id": case.public_id}), data)


def test_the_upload_page_says_which_files_were_queried_and_why(case, as_staff, settings):
    page = as_staff.get(reverse("cases:photo_upload", kwargs={"case_id": case.public_id})).content.decode()
    assert 'name="use_camera_date"' not in page  # offered only once a date is queried

    response = _post(
        as_staff,
        case,
        camera_file("IMG_0001.jpg", OPENED + DAY),
        camera_file("IMG_2008.jpg", datetime.date(2008, 5, 12)),
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was uploaded" in html
    assert "The camera recorded 12 May 2008 as the day “IMG_2008.jpg” was taken" in html
    assert "more than 30 days before this case opened (10 Feb 2026)" in html
    assert "IMG_0001.jpg" not in html  # the file whose date is fine is not queried
    assert 'name="use_camera_date"' in html
    assert response.context["form"].errors["use_camera_date"]
    assert Photo.objects.count() == 0
    assert stored_files(settings) == []


def test_confirming_on_the_upload_page_keeps_the_camera_date(case, as_staff):
    response = _post(as_staff, case, camera_file("IMG_2008.jpg", datetime.date(2008, 5, 12)), use_camera_date="on")
    assert response.status_code == 302
    assert Photo.objects.get().taken_on == datetime.date(2008, 5, 12)


def test_a_date_entered_on_the_upload_page_is_used(case, as_staff):
    response = _post(as_staff, case, camera_file("IMG_2008.jpg", datetime.date(2008, 5, 12)), taken_on="2026-02-12")
    assert response.status_code == 302
    assert Photo.objects.get().taken_on == datetime.date(2026, 2, 12)


# ------------------------------------------------------------------ comparisons


@pytest.fixture
def series(case):
    """Front photos: two from years before the case (confirmed camera dates), then a
    before, a progress and an after within it; a top angle with old photos only."""
    photo = factories.PhotoFactory

    def make(key, **fields):
        return photo(case=case, shared_with_client=True, **fields)

    return {
        "2008": make("2008", kind=PhotoKind.BEFORE, taken_on=datetime.date(2008, 5, 12)),
        "2015": make("2015", kind=PhotoKind.BEFORE, taken_on=datetime.date(2015, 8, 1)),
        "before": make("before", kind=PhotoKind.BEFORE, taken_on=OPENED),
        "progress": make("progress", kind=PhotoKind.PROGRESS, taken_on=OPENED + 60 * DAY),
        "after": make("after", kind=PhotoKind.AFTER, taken_on=OPENED + 200 * DAY),
        "top-2008": make("top-2008", kind=PhotoKind.BEFORE, angle=PhotoAngle.TOP, taken_on=datetime.date(2008, 5, 12)),
        "top-2015": make("top-2015", kind=PhotoKind.BEFORE, angle=PhotoAngle.TOP, taken_on=datetime.date(2015, 8, 1)),
    }


def _compare(http, case, **query):
    return http.get(reverse("cases:photo_compare", kwargs={"case_id": case.public_id}), query)


def test_staff_compare_opens_on_photos_taken_within_the_case(case, series, as_staff):
    pair = _compare(as_staff, case).context["pair"]
    assert (pair.angle, pair.a, pair.b) == ("front", series["before"], series["after"])
    # "Compare first and latest" in the gallery links to the angle: the same pair.
    gallery = as_staff.get(reverse("cases:photo_gallery", kwargs={"case_id": case.public_id})).content.decode()
    assert "?angle=front" in gallery
    assert "Before the case opened" in gallery
    pair = _compare(as_staff, case, angle="front").context["pair"]
    assert (pair.a, pair.b) == (series["before"], series["after"])


def test_staff_can_still_choose_older_photos(case, series, as_staff):
    response = _compare(as_staff, case, a=series["2008"].public_id, b=series["after"].public_id)
    assert (response.context["pair"].a, response.context["pair"].b) == (series["2008"], series["after"])
    assert response.context["days"] == (series["after"].taken_on - datetime.date(2008, 5, 12)).days
    html = response.content.decode()
    assert "Before the case opened" in html
    assert "(before the case opened)" in html  # marked in the picker too
    # One older photo chosen: compared with the latest photo of its angle.
    pair = _compare(as_staff, case, a=series["2015"].public_id).context["pair"]
    assert (pair.a, pair.b) == (series["2015"], series["after"])


def test_an_angle_with_only_older_photos_opens_empty_and_says_why(case, series, as_staff):
    response = _compare(as_staff, case, angle="top")
    pair = response.context["pair"]
    assert (pair.angle, pair.a, pair.b) == ("top", None, None)
    html = response.content.decode()
    assert "No top photo was taken since this case opened on 10 Feb 2026." in html
    assert 'id="choose-heading"' in html  # older ones can still be chosen
    pair = _compare(as_staff, case, a=series["top-2008"].public_id).context["pair"]
    assert (pair.a, pair.b) == (series["top-2008"], series["top-2015"])


def test_without_photos_within_the_case_the_first_angle_is_shown_empty(as_staff, client_a):
    case = factories.CaseFactory(client=client_a, opened_on=OPENED)
    factories.PhotoFactory(case=case, taken_on=datetime.date(2008, 5, 12))
    factories.PhotoFactory(case=case, taken_on=datetime.date(2015, 8, 1))
    response = _compare(as_staff, case)
    assert (response.context["pair"].a, response.context["pair"].b) == (None, None)
    assert "No front photo was taken since this case opened" in response.content.decode()


def test_the_default_angle_is_the_first_with_photos_within_the_case(as_staff, client_a):
    case = factories.CaseFactory(client=client_a, opened_on=OPENED)
    factories.PhotoFactory(case=case, angle=PhotoAngle.FRONT, taken_on=datetime.date(2008, 5, 12))
    top = factories.PhotoFactory(case=case, angle=PhotoAngle.TOP, taken_on=OPENED + DAY)
    pair = _compare(as_staff, case).context["pair"]
    assert (pair.angle, pair.a, pair.b) == ("top", top, None)


def test_the_portal_opens_on_photos_taken_within_the_case(case, series, as_client_a):
    response = as_client_a.get(reverse("cases:portal_photos"))
    front = next(group for group in response.context["groups"] if group.angle == "front")
    assert (front.before, front.after) == (series["before"], series["after"])
    top = next(group for group in response.context["groups"] if group.angle == "top")
    assert (top.before, top.after) == (None, None)
    html = response.content.decode()
    assert "These top photos are from before you started with the clinic." in html
    assert f"?a={series['before'].public_id}&amp;b={series['2008'].public_id}" not in html

    compare = reverse("cases:portal_photo_compare")
    response = as_client_a.get(compare)
    assert (response.context["a"], response.context["b"]) == (series["before"], series["after"])
    response = as_client_a.get(compare, {"a": series["2008"].public_id})
    assert (response.context["a"], response.context["b"]) == (series["2008"], series["after"])
    response = as_client_a.get(compare, {"angle": "top"})
    assert (response.context["a"], response.context["b"]) == (None, None)
    assert "Your top photos shared so far are from before you started with the clinic." in response.content.decode()


def test_staff_and_portal_open_on_the_same_pair(case, series, as_staff, as_client_a):
    """One choice of pair for both sides: same photos, same pair, same picker."""
    for query in ({}, {"angle": "front"}, {"angle": "top"}, {"a": series["progress"].public_id}):
        staff = _compare(as_staff, case, **query)
        portal = as_client_a.get(reverse("cases:portal_photo_compare"), query)
        assert (staff.context["pair"].a, staff.context["pair"].b) == (portal.context["a"], portal.context["b"]), query
        for response in (staff, portal):
            assert 'id="choose-heading"' in response.content.decode()


# ---------------------------------------------------------------- query counts


def _photos(case, count: int) -> None:
    """`count` shared photos over every angle, a third of them from before the case opened."""
    angles = PhotoAngle.values
    for n in range(count):
        day = datetime.date(2015, 1, 1) + n * DAY if n % 3 == 2 else OPENED + n * DAY
        angle = angles[(n // 2) % len(angles)]  # two front photos within the case: a pair to compare
        factories.PhotoFactory(case=case, shared_with_client=True, angle=angle, taken_on=day)


@pytest.mark.parametrize(
    ("name", "cap"),
    [
        # session, user, user's groups, case (+client), photos (+case, links), sessions ×2,
        # the access log's insert
        ("cases:photo_gallery", 8),
        ("cases:photo_compare", 8),
    ],
)
def test_staff_photo_pages_take_as_many_queries_for_many_photos(name, cap, as_staff, client_a):
    small = factories.CaseFactory(client=client_a, opened_on=OPENED)
    large = factories.CaseFactory(client=client_a, opened_on=OPENED)
    _photos(small, 4)
    _photos(large, 40)
    as_staff.get(reverse(name, kwargs={"case_id": small.public_id}))  # warm up the session
    few = sql_of_get(as_staff, reverse(name, kwargs={"case_id": small.public_id}))
    many = sql_of_get(as_staff, reverse(name, kwargs={"case_id": large.public_id}))
    assert_queries_hold(few, many, at_most=cap)


@pytest.mark.parametrize(
    ("name", "cap"),
    [
        # session, user, user's groups, own client record, shared photos (+case), the
        # access log's insert
        ("cases:portal_photos", 6),
        ("cases:portal_photo_compare", 6),
    ],
)
def test_portal_photo_pages_take_as_many_queries_for_many_photos(name, cap, as_client_a, client_a):
    case = factories.CaseFactory(client=client_a, opened_on=OPENED)
    _photos(case, 4)
    as_client_a.get(reverse(name))  # warm up the session
    few = sql_of_get(as_client_a, reverse(name))
    _photos(factories.CaseFactory(client=client_a, opened_on=OPENED), 40)
    many = sql_of_get(as_client_a, reverse(name))
    assert_queries_hold(few, many, at_most=cap)


@pytest.mark.django_db
def test_a_photos_name_and_choice_label_write_the_day_as_every_page_does():
    """ "8 Mar 2025", as the pages' dates read, not "08 Mar 2025"."""
    from cases.forms.photos import _choice_label

    photo = factories.PhotoFactory(taken_on=datetime.date(2025, 3, 8))
    assert str(photo).endswith(" 8 Mar 2025") and " 08 " not in str(photo)
    assert "· 8 Mar 2025" in _choice_label(photo)
