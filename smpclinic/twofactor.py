"""Two-factor sign-in: a code from an authenticator app (TOTP) or a single-use recovery
code, after the password.

Who needs it
    Managers and administrators always; all staff when Clinic settings say so; anyone
    (clients included) who set it up. Whether a session must still pass the second step
    is decided once, at sign-in, and kept in the session (`STEP_KEY`), so a page costs no
    query for it; a change of role or setting applies from the next sign-in. A session
    that holds no decision (signed in before this rule existed) is decided on its next
    request, once. A session that passed with a device that is gone since (a manager's
    reset, another phone set up elsewhere) is decided again: it owes a code or a set-up.

Until the second step is passed, `TwoFactorMiddleware` lets the person reach only the
sign-out, the code page and (for someone who must set it up) the set-up page: every other
page, the Django admin included, sends them there. Five wrong codes end the session:
they sign in with the password again (which django-axes limits in its turn). Each wrong
code also holds that device back for a while, doubling each time (django-otp's
throttling, kept on the device, so signing in again does not start a guesser afresh);
a right code clears it. There is no "remember this device": every sign-in asks for a
code.
"""

from __future__ import annotations

import base64
import secrets

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from smpclinic import roles
from smpclinic.audit import login_event
from smpclinic.models import ClinicSettings, LoginEvent

STEP_KEY = "smp_second_factor"  # VERIFY, ENROL, PASSED or NONE; absent: not decided yet
VERIFY = "verify"  # owes a code
ENROL = "enrol"  # owes setting up a device
PASSED = "passed"  # passed the code (or the set-up) with the device in django-otp's session key
NONE = ""  # owes nothing: no device, and none required
FAILURES_KEY = "smp_second_factor_failures"
MAX_FAILURES = 5
RECOVERY_CODES = 10
NEW_CODES_KEY = "smp_new_recovery_codes"  # shown once, right after they are made
RECOVERY_DEVICE_NAME = "Recovery codes"

# Pages a person between the password and the code may open (URL names).
OPEN_DURING_SECOND_STEP = {"logout", "two_factor_verify", "two_factor_setup", "favicon"}


def required(user) -> bool:
    """Managers and administrators always; staff when the clinic asks it of them (read from
    the cached settings, as every request's idle limit is: a sign-in reads no row, and a
    change reaches every process at once through the shared cache)."""
    if user.is_staff or roles.is_elevated(user):
        return True
    return roles.is_clinic_user(user) and ClinicSettings.cached().two_factor_for_staff


def confirmed_devices(user, *, lock: bool = False) -> list:
    """The user's app and recovery-code devices; `lock` (inside a transaction) holds their
    rows until it ends, so two requests checking a code for them go one after the other."""
    apps = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk")
    recovery = StaticDevice.objects.filter(user=user, confirmed=True).order_by("pk")
    if lock:
        apps, recovery = apps.select_for_update(), recovery.select_for_update()
    return [*apps, *recovery]


def has_second_factor(user) -> bool:
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or StaticToken.objects.filter(device__user=user, device__confirmed=True).exists()
    )


def _decide(session, user) -> str:
    """What this session owes (stored under STEP_KEY): one or two queries, at sign-in."""
    if session.get(DEVICE_ID_SESSION_KEY):
        step = PASSED  # verified as part of this sign-in
    elif has_second_factor(user):
        step = VERIFY
    elif required(user):
        step = ENROL
    else:
        step = NONE
    session[STEP_KEY] = step
    return step


def _decide_at_sign_in(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    request.session.pop(FAILURES_KEY, None)
    _decide(request.session, user)


user_logged_in.connect(_decide_at_sign_in, dispatch_uid="smp_second_factor_at_sign_in")


def pending_step(request: HttpRequest) -> str | None:
    """VERIFY or ENROL while this session still owes its second step, else None.

    `user.is_verified()` costs nothing here: django-otp's middleware has already looked
    up the session's device when the user was loaded (and dropped a device that is gone)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    session = request.session
    step = session.get(STEP_KEY)
    if step is None:
        step = _decide(session, user)  # a session from before this rule
    if step == PASSED and not user.is_verified():
        step = _decide(session, user)  # its device was reset or replaced since
    if step in (VERIFY, ENROL) and user.is_verified():
        session[STEP_KEY] = step = PASSED
    return step if step in (VERIFY, ENROL) else None


class TwoFactorMiddleware:
    """Keeps a signed-in person who owes the second step on the code or set-up page.
    After django_otp's OTPMiddleware (which says whether the session is verified)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        step = pending_step(request)
        if step is None:
            return None
        if request.path.startswith(settings.STATIC_URL):
            return None
        match = request.resolver_match
        opened = match is not None and not match.namespace and match.url_name in OPEN_DURING_SECOND_STEP
        if opened and (match.url_name != "two_factor_setup" or step == ENROL):
            return None
        target = "two_factor_setup" if step == ENROL else "two_factor_verify"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


# ---------------------------------------------------------------------------
# The second step, set-up and recovery codes (called by the views)
# ---------------------------------------------------------------------------


def owes_code_before_changing(request: HttpRequest) -> bool:
    """Whether this session must pass the second step before it may change it (a new
    phone, new recovery codes). A session signed in before the person set up a second
    factor elsewhere never passed it: it must now, or it could replace the factor it
    never proved. Such a session is put back on the code step."""
    user = request.user
    if user.is_verified() or not has_second_factor(user):
        return False
    request.session[STEP_KEY] = VERIFY
    return True


class TooSoon(Exception):
    """A code was tried again too soon after a wrong one: nothing was checked or counted."""


def check_code(request: HttpRequest, code: str):
    """The device that accepts `code` (an app code or an unused recovery code), marking
    the session verified; None for a wrong code, counted: after MAX_FAILURES the session
    ends. Recovery codes are used up on success. Raises TooSoon while django-otp's wait
    after a wrong code runs (a second or two, doubling with each wrong code)."""
    user = request.user
    code = normalised(code)
    device = None
    with transaction.atomic():
        # Read and locked inside the transaction: of two requests with one code (a recovery
        # code, or an app code within its 30 seconds) the second sees it used, and of two
        # wrong guesses at once the second meets the wait the first started.
        devices = confirmed_devices(user, lock=True)
        if devices and not any(candidate.verify_is_allowed()[0] for candidate in devices):
            raise TooSoon  # after a wrong code, each device waits a moment (doubling) before the next
        for candidate in devices:
            if candidate.verify_is_allowed()[0] and candidate.verify_token(code):
                device = candidate
                break
    if device is None:
        failures = request.session.get(FAILURES_KEY, 0) + 1
        request.session[FAILURES_KEY] = failures
        login_event(LoginEvent.Kind.TWO_FACTOR_FAILED, request=request, user=user)
        if failures >= MAX_FAILURES:
            logout(request)
        return None
    otp_login(request, device)
    request.session[STEP_KEY] = PASSED
    request.session.pop(FAILURES_KEY, None)
    kind = LoginEvent.Kind.RECOVERY_CODE_USED if isinstance(device, StaticDevice) else LoginEvent.Kind.TWO_FACTOR_PASSED
    login_event(kind, request=request, user=user)
    return device


def unconfirmed_app_device(user) -> TOTPDevice:
    """The authenticator being set up: the same secret on every visit until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def app_key(device: TOTPDevice) -> str:
    """The device's secret as a person types it into an authenticator app (base32)."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// address as a QR code in inline SVG (no script, no style
    attribute: the Content-Security-Policy allows neither)."""
    import segno

    qr = segno.make(device.config_url, error="m")
    return qr.svg_inline(scale=5, dark="#000", light="#fff", title="Scan with your authenticator app")


@transaction.atomic
def confirm_app_device(request: HttpRequest, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the app with its first code: it replaces any earlier app, the session is
    verified, and a fresh set of recovery codes is returned (to be shown once)."""
    if not device.verify_token(normalised(code)):
        login_event(LoginEvent.Kind.TWO_FACTOR_FAILED, request=request, user=request.user)
        return None
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save()
    otp_login(request, device)
    request.session[STEP_KEY] = PASSED
    login_event(LoginEvent.Kind.TWO_FACTOR_ENROLLED, request=request, user=request.user)
    return new_recovery_codes(request.user)


def new_recovery_codes(user, count: int = RECOVERY_CODES) -> list[str]:
    """A new set of single-use recovery codes; the previous set stops working."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [_recovery_code() for _ in range(count)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def unused_recovery_codes(user) -> list[str]:
    return list(
        StaticToken.objects.filter(device__user=user, device__name=RECOVERY_DEVICE_NAME)
        .order_by("pk")
        .values_list("token", flat=True)
    )


def _recovery_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
    return "".join(secrets.choice(alphabet) for _ in range(10))


def shown(code: str) -> str:
    """A recovery code as printed: two groups of five."""
    return f"{code[:5]}-{code[5:]}" if len(code) == 10 else code


def normalised(code: str) -> str:
    """What was typed, as stored: spaces and dashes dropped, lower case."""
    return "".join(ch for ch in code if ch not in " -\t").lower()


@transaction.atomic
def reset_refusal(user, *, by) -> str | None:
    """Why `by` may not reset `user`'s second factor, or None. After a reset the next
    sign-in with the password sets up a new device, so whoever resets must not be able
    to open more than the person they reset: an administrator's needs an administrator."""
    if not roles.may(by, roles.MANAGE_SIGN_INS):
        return "You may not reset a second factor."
    if user.is_superuser and not by.is_superuser:
        return "Only an administrator can reset an administrator's second factor."
    return None


def reset(user, *, by, request: HttpRequest | None = None) -> None:
    """A manager clears someone's second factor (a lost phone): their next sign-in asks
    them to set it up again where it is required."""
    refusal = reset_refusal(user, by=by)
    if refusal:
        raise PermissionDenied(refusal)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    login_event(LoginEvent.Kind.TWO_FACTOR_RESET, request=request, user=user, by=by)
