"""Photo pages (gallery, upload, compare, archive) and the permission-checked file views."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.choices import PhotoAngle, PhotoKind, SessionStatus
from cases.models import Photo
from tests import factories
from tests.cases.test_photo_processing import CAMERA_DAY, SVG, encoded, phone_jpeg, shown, stored_files
from tests.helpers import assert_queries_hold, messages_of, sql_of_get
from tests.signin import signed_in

DAY = datetime.timedelta(days=1)


def url(name: str, obj, **query) -> str:
    key = "case_id" if name in ("photo_gallery", "photo_upload", "photo_compare") else "photo_id"
    path = reverse(f"cases:{name}", kwargs={key: obj.public_id})
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def upload_data(*files, **fields) -> dict:
    data = {
        "images": list(files),
        "kind": PhotoKind.BEFORE,
        "angle": PhotoAngle.FRONT,
        "zone": "",
        "taken_on": "",
        "issue": "",
        "laser_session": "",
        "correction_session": "",
        "follow_up": "",
        "caption": "",
    }
    data.update(fields)
    return data


def jpeg_file(name="IMG_0001.JPG", **options) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, phone_jpeg(**options), content_type="image/jpeg")


@pytest.fixture
def case(client_a):
    return factories.CaseFactory(client=client_a)


@pytest.fixture
def photo(case):
    return factories.PhotoFactory(case=case, shared_with_client=True)


# ------------------------------------------------------------------------ who may


@pytest.mark.parametrize("name", ["photo_gallery", "photo_upload", "photo_compare"])
def test_case_pages_are_for_staff(name, case, anonymous, as_client_a, as_staff, as_manager):
    response = anonymous.get(url(name, case))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert as_client_a.get(url(name, case)).status_code == 403
    assert as_staff.get(url(name, case)).status_code == 200
    assert as_manager.get(url(name, case)).status_code == 200


def test_case_pages_404_for_an_archived_case(case, as_staff, manager_user):
    case.archive(by=manager_user, reason="Opened by mistake")
    for name in ("photo_gallery", "photo_upload", "photo_compare"):
        assert as_staff.get(url(name, case)).status_code == 404


def test_archiving_is_for_managers(photo, anonymous, as_client_a, as_staff, as_manager):
    assert anonymous.get(url("photo_archive", photo)).status_code == 302
    assert as_client_a.get(url("photo_archive", photo)).status_code == 403
    assert as_staff.get(url("photo_archive", photo)).status_code == 403
    assert as_staff.post(url("photo_archive", photo), {"reason": "Blurred"}).status_code == 403
    assert as_manager.get(url("photo_archive", photo)).status_code == 200
    photo.refresh_from_db()
    assert not photo.is_archived


# ------------------------------------------------------------------------- files

FILE_VIEWS = ["photo_file", "photo_screen", "photo_thumb"]


@pytest.mark.parametrize("name", FILE_VIEWS)
def test_staff_get_the_file_with_private_headers(name, photo, as_staff):
    response = as_staff.get(url(name, photo))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body == photo.image.open("rb").read()  # the factory's photo has no derivatives
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, max-age=600, no-store"  # no-store: signed in
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    # Opened on its own, the browser's image viewer may style its page but run nothing.
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"
    )
    assert response["Content-Disposition"].startswith("inline;")
    assert str(photo.public_id) in response["Content-Disposition"]
    assert "Cookie" in response["Vary"]


@pytest.mark.parametrize("name", FILE_VIEWS)
def test_a_client_sees_their_own_shared_photo(name, photo, as_client_a):
    response = as_client_a.get(url(name, photo))
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("private")


@pytest.mark.parametrize("name", FILE_VIEWS)
def test_anonymous_users_are_sent_to_log_in(name, photo, anonymous):
    response = anonymous.get(url(name, photo))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", FILE_VIEWS)
def test_everyone_else_gets_404(name, case, as_client_a, as_client_b, as_staff, manager_user):
    unshared = factories.PhotoFactory(case=case, shared_with_client=False)
    shared = factories.PhotoFactory(case=case, shared_with_client=True)
    archived = factories.PhotoFactory(case=case, shared_with_client=True)
    archived.archive(by=manager_user, reason="Wrong client")

    assert as_client_a.get(url(name, unshared)).status_code == 404  # own case, not shared
    assert as_client_b.get(url(name, shared)).status_code == 404  # someone else's case
    assert as_client_a.get(url(name, archived)).status_code == 404
    assert as_staff.get(url(name, archived)).status_code == 404


def test_a_user_without_a_role_gets_404(photo):
    from django.test import Client as HttpClient

    http = HttpClient()
    signed_in(factories.UserFactory(username="nobody"), http)
    assert http.get(url("photo_file", photo)).status_code == 404


def test_a_client_of_an_archived_client_record_gets_404(photo, client_a, as_client_a, manager_user):
    client_a.archive(by=manager_user, reason="Left the clinic")
    assert as_client_a.get(url("photo_thumb", photo)).status_code == 404


def test_media_url_is_not_served(photo, as_staff, anonymous):
    media = settings.MEDIA_URL + photo.image.name
    assert as_staff.get(media).status_code == 404
    # No view answers there, so LoginRequiredMiddleware has nothing to guard: plain 404.
    assert anonymous.get(media).status_code == 404
    assert as_staff.get(url("photo_file", photo)).status_code == 200


def test_each_view_serves_its_own_derivative(case, as_staff):
    as_staff.post(url("photo_upload", case), upload_data(jpeg_file()))
    photo = Photo.objects.get()
    sizes = {}
    for name in FILE_VIEWS:
        response = as_staff.get(url(name, photo))
        sizes[name] = shown(b"".join(response.streaming_content)).size  # as the browser shows it
    assert sizes == {"photo_file": (40, 80), "photo_screen": (40, 80), "photo_thumb": (40, 80)}
    assert photo.screen.name != photo.image.name != photo.thumbnail.name


def test_a_repeat_request_with_the_etag_gets_304(photo, as_staff):
    first = as_staff.get(url("photo_thumb", photo))
    again = as_staff.get(url("photo_thumb", photo), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["Cache-Control"] == "private, max-age=600, no-store"
    # The ETag is per variant: the full-size file is not "not modified" by the thumbnail's tag.
    assert as_staff.get(url("photo_file", photo), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_a_missing_file_is_404_not_500(photo, as_staff):
    photo.image.storage.delete(photo.image.name)
    assert as_staff.get(url("photo_file", photo)).status_code == 404


def test_files_refuse_post(photo, as_staff):
    assert as_staff.post(url("photo_file", photo)).status_code == 405


# ------------------------------------------------------------------------ upload


def test_upload_page_offers_only_the_cases_records(case, as_staff):
    own = factories.LaserSessionFactory(case=case)
    other = factories.LaserSessionFactory()
    response = as_staff.get(url("photo_upload", case))
    html = response.content.decode()
    assert 'type="file"' in html and "multiple" in html and 'enctype="multipart/form-data"' in html
    assert str(own.public_id) in html
    assert str(other.public_id) not in html
    assert 'type="date"' in html


@pytest.mark.parametrize(
    ("param", "factory"),
    [
        ("laser_session", factories.LaserSessionFactory),
        ("correction_session", factories.CorrectionSessionFactory),
        ("follow_up", factories.FollowUpFactory),
        ("issue", factories.IssueFactory),
    ],
)
def test_query_parameters_preselect_a_link(param, factory, case, as_staff):
    record = factory(case=case)
    html = as_staff.get(url("photo_upload", case, **{param: record.public_id})).content.decode()
    assert re.search(rf'<option value="{record.public_id}"\s+selected>', html)


def test_query_parameters_for_another_case_or_garbage_select_nothing(case, as_staff):
    other = factories.LaserSessionFactory()
    html = as_staff.get(url("photo_upload", case, laser_session=other.public_id)).content.decode()
    assert str(other.public_id) not in html
    response = as_staff.get(url("photo_upload", case, laser_session="<script>", issue="nope"))
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()


def test_upload_several_photos_at_once(case, as_staff, staff_user, settings, django_capture_on_commit_callbacks):
    issue = factories.IssueFactory(case=case)
    heic = SimpleUploadedFile("IMG_0002.HEIC", encoded("HEIF"), content_type="image/heic")
    png = SimpleUploadedFile("scan.png", encoded("PNG"), content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):  # the copies' task, after the commit
        response = as_staff.post(
            url("photo_upload", case),
            upload_data(
                jpeg_file(),
                heic,
                png,
                kind=PhotoKind.PROGRESS,
                angle=PhotoAngle.CROWN,
                zone="crown",
                taken_on="2026-06-01",
                issue=str(issue.public_id),
                caption="Six weeks after laser",
                shared_with_client="on",
            ),
        )
    assert response.status_code == 302
    assert response["Location"] == url("photo_gallery", case) + "#angle-crown"
    assert messages_of(response) == [f"3 photos added to {case.reference}."]
    photos = list(Photo.objects.order_by("id"))
    assert [p.source_format for p in photos] == ["JPEG", "HEIF", "PNG"]
    for photo in photos:
        assert (photo.kind, photo.angle, photo.zone) == ("progress", "crown", "crown")
        assert photo.taken_on == datetime.date(2026, 6, 1)
        assert photo.issue == issue
        assert photo.caption == "Six weeks after laser"
        assert photo.shared_with_client is True
        assert photo.uploaded_by == staff_user
    assert len(stored_files(settings)) == 9


def test_uploads_default_to_clinic_only(case, as_staff):
    as_staff.post(url("photo_upload", case), upload_data(jpeg_file()))
    assert Photo.objects.get().shared_with_client is False


def test_upload_without_a_date_uses_the_camera_date(case, as_staff):
    as_staff.post(url("photo_upload", case), upload_data(jpeg_file()))
    assert Photo.objects.get().taken_on == CAMERA_DAY


def test_upload_refused_file_shows_why_and_stores_nothing(case, as_staff, settings):
    svg = SimpleUploadedFile("logo.jpg", SVG, content_type="image/jpeg")
    response = as_staff.post(url("photo_upload", case), upload_data(jpeg_file(), svg))
    assert response.status_code == 200
    html = response.content.decode()
    assert "“logo.jpg” is a text document (SVG, HTML or XML), not a photo." in html
    assert "Nothing was uploaded" in html
    assert Photo.objects.count() == 0
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"images": []}, "images", "This field is required."),
        ({"kind": "sideways"}, "kind", "Select a valid choice."),
        ({"angle": ""}, "angle", "This field is required."),
        ({"zone": "elbow"}, "zone", "Select a valid choice."),
        ({"taken_on": "2999-01-01"}, "taken_on", "The date taken cannot be in the future."),
        ({"taken_on": "yesterday"}, "taken_on", "Enter a valid date."),
        ({"caption": "x" * 301}, "caption", "Ensure this value has at most 300 characters"),
    ],
)
def test_upload_form_errors(fields, field, message, case, as_staff):
    data = upload_data(jpeg_file(), **fields)
    response = as_staff.post(url("photo_upload", case), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert Photo.objects.count() == 0


def test_upload_refuses_another_cases_session(case, as_staff):
    other = factories.LaserSessionFactory()
    response = as_staff.post(url("photo_upload", case), upload_data(jpeg_file(), laser_session=str(other.public_id)))
    assert "Select a valid choice" in response.context["form"].errors["laser_session"][0]
    assert Photo.objects.count() == 0


def test_upload_limits_the_number_of_files(case, as_staff):
    files = [SimpleUploadedFile(f"{n}.png", encoded("PNG"), "image/png") for n in range(21)]
    response = as_staff.post(url("photo_upload", case), upload_data(*files))
    assert "Upload at most 20 photos at a time; you chose 21." in response.context["form"].errors["images"]
    assert Photo.objects.count() == 0


def test_an_oversize_upload_is_refused(case, as_staff, settings):
    settings.SMP_PHOTO_MAX_BYTES = 1_000
    response = as_staff.post(url("photo_upload", case), upload_data(jpeg_file("big.jpg")))
    assert "“big.jpg” is" in response.content.decode()
    assert "a photo can be at most 1000\xa0bytes" in response.content.decode()
    assert Photo.objects.count() == 0
    assert stored_files(settings) == []


def test_a_duplicate_upload_is_stored_with_a_warning(case, as_staff):
    as_staff.post(url("photo_upload", case), upload_data(jpeg_file("first.jpg")))
    response = as_staff.post(url("photo_upload", case), upload_data(jpeg_file("again.jpg")))
    assert Photo.objects.count() == 2
    (warning,) = [text for text in messages_of(response) if "same file" in text]
    assert warning.startswith(f"“again.jpg” is the same file as the Before Front {CAMERA_DAY:%d %b %Y} photo")
    assert "ask a manager to archive one" in warning
    gallery = as_staff.get(url("photo_gallery", case)).content.decode()
    assert f"Same file as the Before Front {CAMERA_DAY:%d %b %Y} photo" in gallery


# ----------------------------------------------------------------------- gallery


def test_gallery_groups_by_angle_in_the_standard_order_and_by_date(case, as_staff):
    crown = factories.PhotoFactory(case=case, angle=PhotoAngle.CROWN, taken_on=factories.TODAY - 50 * DAY)
    late = factories.PhotoFactory(case=case, angle=PhotoAngle.FRONT, kind="after", taken_on=factories.TODAY - DAY)
    early = factories.PhotoFactory(
        case=case, angle=PhotoAngle.FRONT, taken_on=factories.TODAY - 90 * DAY, copies_made=True
    )
    factories.PhotoFactory(case=factories.CaseFactory(), angle=PhotoAngle.TOP)  # another case

    response = as_staff.get(url("photo_gallery", case))
    groups = response.context["groups"]
    assert [g.angle for g in groups] == ["front", "crown"]
    assert groups[0].photos == [early, late]
    assert groups[1].photos == [crown]
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert f'src="{url("photo_thumb", early)}"' in html
    assert f'alt="{early.description}"' in html
    assert "Before photo, front view, taken" in early.description
    assert f"{url('photo_compare', case)}?angle=front" in html
    assert 'id="angle-crown"' in html


def test_gallery_timeline_shows_sessions_between_photos(case, as_staff):
    now = timezone.now()
    factories.PhotoFactory(case=case, taken_on=timezone.localdate() - 60 * DAY)
    factories.PhotoFactory(case=case, kind="after", taken_on=timezone.localdate())
    factories.LaserSessionFactory(case=case, scheduled_at=now - 30 * DAY)
    factories.CorrectionSessionFactory(case=case, scheduled_at=now - 10 * DAY)
    factories.LaserSessionFactory(case=case, scheduled_at=now - 90 * DAY)  # before the first photo
    factories.LaserSessionFactory(case=case, scheduled_at=now - 20 * DAY, status=SessionStatus.CANCELLED)

    (group,) = as_staff.get(url("photo_gallery", case)).context["groups"]
    assert [kind for _day, kind, _item in group.timeline] == ["photo", "laser", "correction", "photo"]


def test_gallery_hides_archived_photos_and_shows_manager_actions(case, as_staff, as_manager, manager_user):
    kept = factories.PhotoFactory(case=case)
    gone = factories.PhotoFactory(case=case)
    gone.archive(by=manager_user, reason="Blurred")
    staff_html = as_staff.get(url("photo_gallery", case)).content.decode()
    assert str(kept.public_id) in staff_html and str(gone.public_id) not in staff_html
    assert url("photo_archive", kept) not in staff_html
    assert url("photo_archive", kept) in as_manager.get(url("photo_gallery", case)).content.decode()


def test_empty_gallery(case, as_staff):
    response = as_staff.get(url("photo_gallery", case))
    assert "No photos yet" in response.content.decode()


def _many_photos(case, count: int) -> None:
    issue = factories.IssueFactory(case=case)
    session = factories.LaserSessionFactory(case=case, scheduled_at=timezone.now() - 40 * DAY)
    follow_up = factories.FollowUpFactory(case=case)
    angles = PhotoAngle.values
    for n in range(count):
        factories.PhotoFactory(
            case=case,
            angle=angles[(n // 2) % len(angles)],  # at least two front photos, so compare has a pair
            taken_on=timezone.localdate() - (n % 80) * DAY,
            issue=issue if n % 3 == 0 else None,
            laser_session=session if n % 3 == 1 else None,
            follow_up=follow_up if n % 3 == 2 else None,
            uploaded_by=factories.StaffUserFactory() if n % 4 == 0 else None,
        )


@pytest.mark.parametrize("name", ["photo_gallery", "photo_compare"])
def test_query_count_does_not_grow_with_photos(name, as_staff, client_a):
    small, large = factories.CaseFactory(client=client_a), factories.CaseFactory(client=client_a)
    _many_photos(small, 5)
    _many_photos(large, 50)
    as_staff.get(url(name, small))  # warm up the session
    few, many = sql_of_get(as_staff, url(name, small)), sql_of_get(as_staff, url(name, large))
    # session, user, user's groups, case (+client), photos (+links), laser and correction sessions
    assert_queries_hold(few, many, at_most=8)  # +1: the access log's one insert


# ----------------------------------------------------------------------- compare


@pytest.fixture
def front_series(case):
    """Front photos: a before, a progress and an after; a top before; two sessions between."""
    today = timezone.localdate()
    series = {
        "before": factories.PhotoFactory(case=case, kind="before", taken_on=today - 100 * DAY),
        "progress": factories.PhotoFactory(case=case, kind="progress", taken_on=today - 50 * DAY),
        "after": factories.PhotoFactory(case=case, kind="after", taken_on=today - DAY),
        "top": factories.PhotoFactory(case=case, kind="before", angle="top", taken_on=today - 100 * DAY),
        "laser": factories.LaserSessionFactory(case=case, scheduled_at=timezone.now() - 70 * DAY),
        "correction": factories.CorrectionSessionFactory(case=case, scheduled_at=timezone.now() - 20 * DAY),
        "outside": factories.LaserSessionFactory(case=case, scheduled_at=timezone.now() - 200 * DAY),
    }
    # An earlier "progress" photo does not displace the earliest "before".
    factories.PhotoFactory(case=case, kind="progress", taken_on=today - 120 * DAY)
    return series


def test_compare_defaults_to_earliest_before_and_latest_front(case, front_series, as_staff):
    response = as_staff.get(url("photo_compare", case))
    pair = response.context["pair"]
    assert (pair.a, pair.b, pair.angle) == (front_series["before"], front_series["after"], "front")
    sessions = [session for _day, _kind, session in response.context["sessions"]]
    assert sessions == [front_series["laser"], front_series["correction"]]
    assert response.context["days"] == 99
    html = response.content.decode()
    assert f'src="{url("photo_screen", front_series["before"])}"' in html
    assert f'src="{url("photo_screen", front_series["after"])}"' in html
    assert "data-photo-compare" in html
    assert "js/compare.js" in html
    assert "99 days apart" in html


def test_compare_by_angle(case, front_series, as_staff):
    pair = as_staff.get(url("photo_compare", case, angle="top")).context["pair"]
    assert (pair.a, pair.b, pair.angle) == (front_series["top"], None, "top")
    assert "nothing to compare it with yet" in as_staff.get(url("photo_compare", case, angle="top")).content.decode()


def test_compare_two_chosen_photos(case, front_series, as_staff):
    a, b = front_series["progress"], front_series["top"]
    response = as_staff.get(url("photo_compare", case, a=a.public_id, b=b.public_id))
    pair = response.context["pair"]
    assert (pair.a, pair.b) == (a, b)
    assert [s for _d, _k, s in response.context["sessions"]] == [front_series["laser"]]


def test_compare_one_chosen_photo_with_the_latest_of_its_angle(case, front_series, as_staff):
    pair = as_staff.get(url("photo_compare", case, a=front_series["progress"].public_id)).context["pair"]
    assert (pair.a, pair.b) == (front_series["progress"], front_series["after"])


def test_compare_refuses_photos_of_another_case(case, front_series, as_staff, manager_user):
    other = factories.PhotoFactory()
    assert as_staff.get(url("photo_compare", case, a=other.public_id)).status_code == 404
    assert as_staff.get(url("photo_compare", case, a="not-a-uuid")).status_code == 404
    front_series["after"].archive(by=manager_user, reason="Wrong angle")
    assert as_staff.get(url("photo_compare", case, b=front_series["after"].public_id)).status_code == 404


def test_compare_without_photos(case, as_staff):
    assert "This case has no photos yet" in as_staff.get(url("photo_compare", case)).content.decode()


# ----------------------------------------------------------------------- archive


def test_archive_needs_a_reason(photo, as_manager):
    response = as_manager.post(url("photo_archive", photo), {"reason": "   "})
    assert response.status_code == 200
    assert "This field is required." in response.context["form"].errors["reason"]
    photo.refresh_from_db()
    assert not photo.is_archived


def test_archive_keeps_the_file_and_records_who_and_why(photo, case, as_manager, manager_user, as_client_a):
    response = as_manager.post(url("photo_archive", photo), {"reason": "Photo of the wrong client"})
    assert response.status_code == 302
    assert response["Location"] == url("photo_gallery", case)
    photo.refresh_from_db()
    assert photo.is_archived
    assert (photo.archived_by, photo.archive_reason) == (manager_user, "Photo of the wrong client")
    assert photo.image.storage.exists(photo.image.name)
    assert as_manager.get(url("photo_file", photo)).status_code == 404
    assert as_client_a.get(url("photo_file", photo)).status_code == 404
    assert as_manager.post(url("photo_archive", photo), {"reason": "again"}).status_code == 404


# ------------------------------------------------------------------------- pages


@pytest.mark.parametrize("name", ["photo_gallery", "photo_upload", "photo_compare"])
def test_pages_have_no_inline_styles_or_scripts(name, case, front_series, as_staff):
    html = as_staff.get(url(name, case)).content.decode()
    assert " style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert html.count("<h1") == 1


def test_archive_page_has_no_inline_styles(photo, as_manager):
    html = as_manager.get(url("photo_archive", photo)).content.decode()
    assert " style=" not in html
    assert 'name="reason"' in html


@pytest.mark.parametrize("persona", ["as_staff", "as_client_a"])
def test_serving_a_file_takes_a_fixed_number_of_queries(persona, photo, request):
    http = request.getfixturevalue(persona)
    http.get(url("photo_thumb", photo))  # warm up the session
    with CaptureQueriesContext(connection) as ctx:
        response = http.get(url("photo_thumb", photo))
    assert response.status_code == 200
    # session, user with their groups' permissions, the photo (with the client's case
    # check as a subquery)
    assert len(ctx.captured_queries) == 4  # +1: the access log's one insert


def test_head_requests_get_the_headers_only(photo, as_staff):
    response = as_staff.head(url("photo_file", photo))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
