"""Two-factor sign-in: managers and administrators (and staff when the clinic asks)
pass a code after the password, set up with an authenticator app; recovery codes work
once; five wrong codes end the session; a manager resets a lost phone; all recorded."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from axes.utils import reset as axes_reset
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from smpclinic import twofactor
from smpclinic.models import ClinicSettings, LoginEvent
from tests import factories
from tests.formdata import form_data

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests"
CODE = reverse("two_factor_verify")
SETUP = reverse("two_factor_setup")
HOME = reverse("cases:home")


@pytest.fixture(autouse=True)
def _no_axes_state(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    axes_reset()
    yield
    axes_reset()


def password_step(user) -> HttpClient:
    http = HttpClient()
    response = http.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return http


def app_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


# --- Who must pass it ------------------------------------------------------------------------


def test_a_manager_without_a_device_reaches_nothing_before_setting_it_up(manager_user):
    http = password_step(manager_user)
    for path in (HOME, reverse("cases:review_queue"), reverse("admin:index"), reverse("cases:access_log")):
        response = http.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(SETUP + "?next=")
    assert http.get(SETUP).status_code == 200
    assert http.post(reverse("logout")).status_code == 302  # leaving is always possible


def test_a_superuser_cannot_open_the_admin_without_the_second_step(admin_user):
    enrolled(admin_user)
    http = password_step(admin_user)
    response = http.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(CODE)


def test_staff_pass_without_it_unless_the_clinic_asks(staff_user):
    assert password_step(staff_user).get(HOME).status_code == 200
    clinic = ClinicSettings.load()
    clinic.two_factor_for_staff = True
    clinic.save()
    response = password_step(staff_user).get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(SETUP)


def test_every_page_stays_behind_it_for_an_unverified_manager(manager_user):
    """Every named URL but the public pages and the sign-in steps themselves sends a
    manager who has not set up the second factor to do so, whatever record it names."""
    from tests.test_url_permissions import ROLE_BY_URL, _params_of
    from tests.url_roles import PUBLIC

    http = password_step(manager_user)
    own_steps = {"logout", "two_factor_setup", "two_factor_verify"}
    checked = 0
    for name, (role, _method) in sorted(ROLE_BY_URL.items()):
        params = _params_of(name)
        if role == PUBLIC or name in own_steps or not all(p.endswith("_id") for p in params):
            continue  # public pages, and pages reached by a token sent by e-mail
        url = reverse(name, kwargs=dict.fromkeys(params, "00000000-0000-4000-8000-000000000000"))
        response = http.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(SETUP), name
        checked += 1
    assert checked > 80


def test_the_code_pages_show_no_menu_until_the_code_is_given(manager_user):
    """The links would only send the person back to the code page: between the password
    and the code, the header offers no menu, only the way out."""
    enrolled(manager_user)
    http = password_step(manager_user)
    page = http.get(CODE).content.decode()
    assert f'href="{reverse("cases:client_list")}"' not in page
    assert f'href="{reverse("cases:review_queue")}"' not in page
    assert reverse("logout") in page


# --- Setting it up and signing in with it ------------------------------------------------


def test_enrolment_with_the_qr_page_then_a_sign_in_with_an_app_code(manager_user):
    http = password_step(manager_user)
    page = http.get(SETUP)
    html = page.content.decode()
    assert "<svg" in html and "style=" not in html.split('id="two-factor-qr"')[1].split("</figure>")[0]
    device = TOTPDevice.objects.get(user=manager_user, confirmed=False)
    assert device.config_url.split("secret=")[1].split("&")[0] in html

    wrong = http.post(SETUP, {"code": "000000" if app_code(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and "not right" in wrong.content.decode()
    # A wrong code holds the next try back a little (doubling each time): a moment later.
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=5), tick=False):
        device.refresh_from_db()
        done = http.post(SETUP, {"code": app_code(device)})
    assert done.status_code == 302 and done["Location"] == reverse("two_factor_codes")
    codes_page = http.get(done["Location"]).content.decode()
    assert codes_page.count("<li>") >= twofactor.RECOVERY_CODES
    assert http.get(HOME).status_code == 200
    assert LoginEvent.objects.filter(kind=LoginEvent.Kind.TWO_FACTOR_ENROLLED, user=manager_user).exists()

    # Next sign-in: the code page, then in.
    again = password_step(manager_user)
    assert again.get(HOME)["Location"].startswith(CODE)
    device.refresh_from_db()
    device.last_t = -1  # the same 30-second window may be used once; a new sign-in is a new window
    device.save()
    response = again.post(CODE, {"code": app_code(device), "next": HOME})
    assert response.status_code == 302 and response["Location"] == HOME
    assert again.get(HOME).status_code == 200
    assert LoginEvent.objects.filter(kind=LoginEvent.Kind.TWO_FACTOR_PASSED, user=manager_user).exists()


def test_recovery_codes_work_once_and_a_new_set_replaces_the_old(manager_user):
    enrolled(manager_user)
    first, second, *_ = twofactor.new_recovery_codes(manager_user)
    http = password_step(manager_user)
    assert http.post(CODE, {"code": twofactor.shown(first)}).status_code == 302
    assert http.get(HOME).status_code == 200
    assert LoginEvent.objects.filter(kind=LoginEvent.Kind.RECOVERY_CODE_USED, user=manager_user).exists()

    reused = password_step(manager_user).post(CODE, {"code": first})
    assert reused.status_code == 200 and "used already" in reused.content.decode()

    twofactor.new_recovery_codes(manager_user)
    old = password_step(manager_user).post(CODE, {"code": second})
    assert old.status_code == 200
    assert StaticToken.objects.filter(device__user=manager_user).count() == twofactor.RECOVERY_CODES


def test_five_wrong_codes_end_the_session(manager_user):
    enrolled(manager_user)
    start = timezone.now()
    http = password_step(manager_user)
    for attempt in range(twofactor.MAX_FAILURES - 1):  # a minute apart: each one is really tried
        with time_machine.travel(start + datetime.timedelta(minutes=attempt), tick=False):
            assert http.post(CODE, {"code": "not-a-code"}).status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=twofactor.MAX_FAILURES), tick=False):
        last = http.post(CODE, {"code": "not-a-code"})
    assert last.status_code == 302 and last["Location"] == reverse("login")
    assert SESSION_KEY not in http.session
    assert LoginEvent.objects.filter(kind=LoginEvent.Kind.TWO_FACTOR_FAILED).count() == twofactor.MAX_FAILURES


def test_a_client_may_opt_in_and_is_then_asked_for_a_code(client_a):
    http = password_step(client_a.user)
    portal = http.get(reverse("cases:portal_plan"))
    assert portal.status_code == 200  # not required
    assert f'href="{reverse("two_factor_codes")}"' in portal.content.decode()  # the way there
    assert "Set up two-factor sign-in" in http.get(reverse("two_factor_codes")).content.decode()
    http.get(SETUP)
    device = TOTPDevice.objects.get(user=client_a.user)
    assert http.post(SETUP, {"code": app_code(device)}).status_code == 302
    later = password_step(client_a.user).get(reverse("cases:portal_plan"))
    assert later.status_code == 302 and later["Location"].startswith(CODE)


def test_a_manager_resets_a_lost_phone_and_it_is_recorded(as_manager, manager_user, staff_user):
    boss = factories.ManagerUserFactory(username="boss")
    enrolled(boss)
    twofactor.new_recovery_codes(boss)
    form = form_data(as_manager.get(reverse("lockouts")).content)
    response = as_manager.post(reverse("two_factor_reset"), {**form, "username": "boss"})
    assert response.status_code == 302
    assert not twofactor.has_second_factor(boss)
    event = LoginEvent.objects.get(kind=LoginEvent.Kind.TWO_FACTOR_RESET)
    assert (event.user, event.by) == (boss, manager_user)
    # Their next sign-in asks them to set it up again.
    assert password_step(boss).get(HOME)["Location"].startswith(SETUP)


def test_staff_cannot_reset_anyones_second_factor(as_staff, manager_user):
    enrolled(manager_user)
    assert as_staff.post(reverse("two_factor_reset"), {"username": "manager"}).status_code == 403
    assert twofactor.has_second_factor(manager_user)


def test_only_an_administrator_resets_an_administrators_second_factor(as_manager, as_admin, admin_user):
    """After a reset, the password alone sets up a new device: a manager who could reset
    an administrator could make themselves one with a stolen password."""
    enrolled(admin_user)
    form = form_data(as_manager.get(reverse("lockouts")).content)

    response = as_manager.post(reverse("two_factor_reset"), {**form, "username": admin_user.username}, follow=True)

    assert "Only an administrator can reset an administrator" in response.content.decode()
    assert twofactor.has_second_factor(admin_user)
    assert not LoginEvent.objects.filter(kind=LoginEvent.Kind.TWO_FACTOR_RESET).exists()
    with pytest.raises(PermissionDenied):
        twofactor.reset(admin_user, by=User.objects.get(username="manager"))

    other_admin = User.objects.create_superuser("admin-2", "admin-2@example.com", "pw-for-tests")
    enrolled(other_admin)
    as_admin.post(reverse("two_factor_reset"), {**form, "username": "admin-2"})
    assert not twofactor.has_second_factor(other_admin)


def test_the_demo_prints_recovery_codes_and_an_app_key_that_sign_its_managers_in(db, monkeypatch):
    import base64
    import io

    from django.core.management import call_command

    from cases import demo

    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    out = io.StringIO()
    call_command("seed_demo", clients=8, seed=1, stdout=out)
    line = next(row for row in out.getvalue().splitlines() if row.strip().startswith("demo-manager") and "code" in row)
    code = line.split(": ", 1)[1].split(", ")[0]

    http = HttpClient()
    http.post(reverse("login"), {"username": "demo-manager", "password": demo.DEFAULT_PASSWORD})
    assert http.get(HOME)["Location"].startswith(CODE)
    assert http.post(CODE, {"code": code}).status_code == 302
    assert http.get(HOME).status_code == 200
    # Printed again later (`make run` on an existing clinic): the used code is gone from the list.
    again = io.StringIO()
    call_command("seed_demo", if_empty=True, stdout=again)
    assert code not in again.getvalue() and "demo-manager" in again.getvalue()

    # The app key printed under a login gives the codes an authenticator app would show.
    lines = again.getvalue().splitlines()
    codes_line = next(i for i, row in enumerate(lines) if row.strip().startswith("demo-admin") and "code" in row)
    key = lines[codes_line + 1].rsplit(" ", 1)[1]
    shown_by_app = f"{totp(base64.b32decode(key + '=' * (-len(key) % 8))):06d}"
    admin = HttpClient()
    admin.post(reverse("login"), {"username": "demo-admin", "password": demo.DEFAULT_PASSWORD})
    assert admin.get(reverse("admin:index"))["Location"].startswith(CODE)
    assert admin.post(CODE, {"code": shown_by_app}).status_code == 302
    assert admin.get(reverse("admin:index")).status_code == 200


def test_wrong_codes_hold_the_device_back_across_sign_ins(manager_user):
    """Signing in again after five wrong codes does not give a guesser fresh tries at
    once: the device itself waits longer after each wrong code (a try while it waits is
    refused unseen), until a right one."""
    device = enrolled(manager_user)
    start = timezone.now()

    def at(seconds: int):
        return time_machine.travel(start + datetime.timedelta(seconds=seconds), tick=False)

    with at(0):
        http = password_step(manager_user)
    for attempt in range(twofactor.MAX_FAILURES):  # a minute apart: each one is really tried
        with at(60 * attempt):
            http.post(CODE, {"code": "000000" if app_code(device) != "000000" else "111111"})
    device.refresh_from_db()
    assert device.throttling_failure_count == twofactor.MAX_FAILURES
    assert SESSION_KEY not in http.session

    signed_off_at = 60 * (twofactor.MAX_FAILURES - 1)
    with at(signed_off_at + 5):
        again = password_step(manager_user)
        refused = again.post(CODE, {"code": app_code(device)})
        assert refused.status_code == 200  # even the right code, for now
        assert again.get(HOME).status_code == 302
    with at(signed_off_at + 2**twofactor.MAX_FAILURES + 1):
        assert again.post(CODE, {"code": app_code(device)}).status_code == 302
        assert again.get(HOME).status_code == 200
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_a_session_that_never_passed_the_code_cannot_change_the_second_factor(staff_user):
    """Staff signed in without a second factor; meanwhile one is set up for them (on
    another computer). The old session must pass it before making new codes or a new phone."""
    http = password_step(staff_user)
    assert http.get(HOME).status_code == 200
    phone = enrolled(staff_user)
    codes = twofactor.new_recovery_codes(staff_user)

    for response in (http.post(reverse("two_factor_codes")), http.get(SETUP)):
        assert response.status_code == 302 and response["Location"].startswith(CODE)
    assert sorted(twofactor.unused_recovery_codes(staff_user)) == sorted(codes)
    assert list(TOTPDevice.objects.filter(user=staff_user)) == [phone]
    assert http.get(HOME)["Location"].startswith(CODE)  # now on the code step for every page
    assert http.post(CODE, {"code": codes[0]}).status_code == 302
    assert http.get(SETUP).status_code == 200


def test_the_test_personas_are_verified_by_a_device_of_their_own(as_manager, as_admin, manager_user, admin_user):
    """The manager and administrator fixtures pass the middleware's own rule (a confirmed
    device and django-otp's session key), not a session with the step taken out."""
    from django_otp import DEVICE_ID_SESSION_KEY

    assert as_manager.get(HOME).status_code == 200
    assert as_admin.get(reverse("admin:index")).status_code == 200
    for http, user in ((as_manager, manager_user), (as_admin, admin_user)):
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        assert http.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
        assert http.session[twofactor.STEP_KEY] == twofactor.PASSED


def test_a_code_typed_at_once_after_a_wrong_one_is_asked_again_not_counted(manager_user):
    """After a wrong code each device waits a moment (doubling): a right code typed within
    it is not refused as wrong; the person is asked to wait, and it is not counted."""
    enrolled(manager_user)
    code, *_ = twofactor.new_recovery_codes(manager_user)
    http = password_step(manager_user)
    # The clock stands still between the two posts, however slow the machine running this.
    with time_machine.travel(timezone.now(), tick=False):
        assert http.post(CODE, {"code": "not-a-code"}).status_code == 200
        hurried = http.post(CODE, {"code": code})
    assert "wait a few seconds" in hurried.content.decode()
    assert LoginEvent.objects.filter(kind=LoginEvent.Kind.TWO_FACTOR_FAILED).count() == 1
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=5), tick=False):
        assert http.post(CODE, {"code": code}).status_code == 302
    assert http.get(HOME).status_code == 200


# --- Sessions that change under the second step -------------------------------------------


def test_a_session_from_before_the_rule_is_decided_on_its_next_request(manager_user, staff_user):
    """A session signed in before two-factor sign-in existed holds no decision: its next
    request makes it, so a manager's old session owes the code like a new one."""
    enrolled(manager_user)
    old_sessions = {user: password_step(user) for user in (manager_user, staff_user)}
    for http in old_sessions.values():
        session = http.session
        del session[twofactor.STEP_KEY]
        session.save()
    response = old_sessions[manager_user].get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(CODE)
    assert old_sessions[staff_user].get(HOME).status_code == 200
    assert old_sessions[staff_user].session[twofactor.STEP_KEY] == twofactor.NONE


def test_a_reset_sends_a_signed_in_manager_back_to_set_up_and_a_new_phone_asks_other_sessions(
    manager_user,
):
    """The device a session passed with is gone: a manager's reset (the lost phone's owner
    sets up again) or another phone set up on another computer (its sessions pass the new
    one's code)."""
    boss = factories.ManagerUserFactory(username="boss")
    code, *_ = twofactor.new_recovery_codes(manager_user)
    here, there = password_step(manager_user), password_step(manager_user)
    assert here.post(CODE, {"code": code}).status_code == 302
    assert here.get(HOME).status_code == 200

    twofactor.reset(manager_user, by=boss)
    response = here.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(SETUP)

    # Set up again here; the other computer, still before the code, stays before it.
    here.get(SETUP)
    device = TOTPDevice.objects.get(user=manager_user)
    assert here.post(SETUP, {"code": app_code(device)}).status_code == 302
    assert here.get(HOME).status_code == 200
    assert there.get(HOME)["Location"].startswith(CODE)

    # A verified session elsewhere loses its phone when a new one is set up here.
    device.refresh_from_db()
    device.last_t = -1  # the code just used at set-up, typed there too: a test's shortcut
    device.save()
    assert there.post(CODE, {"code": app_code(device)}).status_code == 302
    assert there.get(HOME).status_code == 200
    here.get(SETUP)
    newer = TOTPDevice.objects.get(user=manager_user, confirmed=False)
    assert here.post(SETUP, {"code": app_code(newer)}).status_code == 302
    response = there.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(CODE)
    assert here.get(HOME).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_one_code_sent_twice_at_once_signs_in_once(manager_user):
    """Two sign-ins at the same moment with one recovery code, or one app code within its
    30 seconds: the code is checked under a lock, so exactly one of them passes."""
    from tests.threads import race

    device = enrolled(manager_user)
    recovery, *_ = twofactor.new_recovery_codes(manager_user)
    start = timezone.now()
    for minutes, code in ((0, lambda: recovery), (1, lambda: app_code(device))):
        # A minute apart: the loser's wrong try holds the devices back for a second or two.
        with time_machine.travel(start + datetime.timedelta(minutes=minutes), tick=True):
            sessions = [password_step(manager_user), password_step(manager_user)]
            typed = code()
            results, errors = race(
                *(lambda http=http, typed=typed: http.post(CODE, {"code": typed}).status_code for http in sessions)
            )
            assert errors == []
            assert sorted(results) == [200, 302], typed
            assert [http.get(HOME).status_code for http in sessions].count(200) == 1
