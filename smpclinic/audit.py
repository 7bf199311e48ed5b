"""The sign-in audit: every sign-in, failure, lockout, second-factor and password event
is written to `LoginEvent` (append-only) with who, from where and when."""

from __future__ import annotations

from django.http import HttpRequest

from smpclinic.http import client_ip, normalised_ip
from smpclinic.models import LoginEvent


def recorded_ip(request: HttpRequest | None) -> str | None:
    """The browser's address as both audit logs store it: normalised ("2001:db8::1"), or
    None when it does not parse. PostgreSQL's inet column refuses what SQLite would keep
    as text, and a malformed address must not fail the sign-in or the page being audited."""
    return None if request is None else normalised_ip(client_ip(request))


def login_event(kind: str, *, request: HttpRequest | None = None, user=None, username: str = "", by=None) -> LoginEvent:
    """Record one sign-in event. `username` is what was typed (kept for attempts on no
    account); `by` is who acted when it was not the user (a manager unlocking)."""
    if user is not None and getattr(user, "pk", None) is None:
        user = None  # an anonymous user
    meta = request.META if request is not None else {}
    return LoginEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or getattr(user, "username", "") or "")[:254],
        by=by,
        ip=recorded_ip(request),
        user_agent=meta.get("HTTP_USER_AGENT", "")[:300],
    )


# ---------------------------------------------------------------------------
# What is recorded, and from where: connected in SmpClinicConfig.ready()
# ---------------------------------------------------------------------------


def _current_request() -> HttpRequest | None:
    """The request being served, for signals sent without one (a password saved): the
    history middleware keeps it for the change history already."""
    from simple_history.models import HistoricalRecords

    return getattr(HistoricalRecords.context, "request", None)


def _logged_in(sender, request, user, **kwargs) -> None:
    login_event(LoginEvent.Kind.LOGGED_IN, request=request, user=user)


def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django has already replaced the password in `credentials`; only the name is kept.
    typed = str(credentials.get("username") or credentials.get("email") or "")
    if request is not None and getattr(request, "axes_locked_out", False):
        return  # a try while locked out: the lockout event says it
    login_event(LoginEvent.Kind.FAILED, request=request, username=typed)


def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        login_event(LoginEvent.Kind.LOGGED_OUT, request=request, user=user)


def _locked_out(sender, request, username, **kwargs) -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model()._default_manager.filter(username=username).first() if username else None
    login_event(LoginEvent.Kind.LOCKED_OUT, request=request, user=user, username=username or "")


def _password_about_to_change(sender, instance, update_fields=None, **kwargs) -> None:
    """Note whether this save changes the password (one query, and only for saves that
    may write it: a login's `last_login` update does not)."""
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._audit_password_changed = stored is not None and stored != instance.password


def _password_changed(sender, instance, created=False, **kwargs) -> None:
    if not getattr(instance, "_audit_password_changed", False):
        return
    instance._audit_password_changed = False
    request = _current_request()
    match = getattr(request, "resolver_match", None)
    from_reset = match is not None and match.url_name == "password_reset_confirm"
    acting = getattr(request, "user", None)
    by = acting if acting is not None and acting.is_authenticated and acting.pk != instance.pk else None
    kind = LoginEvent.Kind.PASSWORD_RESET if from_reset else LoginEvent.Kind.PASSWORD_CHANGED
    login_event(kind, request=request, user=instance, by=by)


def connect() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
    from django.db.models.signals import post_save, pre_save

    user_logged_in.connect(_logged_in, dispatch_uid="audit_logged_in")
    user_login_failed.connect(_login_failed, dispatch_uid="audit_login_failed")
    user_logged_out.connect(_logged_out, dispatch_uid="audit_logged_out")
    user_locked_out.connect(_locked_out, dispatch_uid="audit_locked_out")
    user_model = get_user_model()
    pre_save.connect(_password_about_to_change, sender=user_model, dispatch_uid="audit_password_pre")
    post_save.connect(_password_changed, sender=user_model, dispatch_uid="audit_password_post")
