"""The pages of two-factor sign-in: the code after the password, setting up an
authenticator app, recovery codes, and a manager's reset for a lost phone."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from smpclinic import roles, twofactor
from smpclinic.http import safe_next


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code your authenticator app shows, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )


class ResetForm(forms.Form):
    username = forms.CharField(label="Username", max_length=150)

    def __init__(self, *args, by, **kwargs):
        super().__init__(*args, **kwargs)
        self.by = by

    def clean_username(self):
        user = User.objects.filter(username=self.cleaned_data["username"].strip()).first()
        if user is None:
            raise forms.ValidationError("No account has this username.")
        refusal = twofactor.reset_refusal(user, by=self.by)
        if refusal:
            raise forms.ValidationError(refusal)
        return user


def _onward(request) -> str:
    return safe_next(request, request.POST.get("next") or request.GET.get("next")) or "/"


def _code_first(request):
    return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': request.path})}")


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    if twofactor.pending_step(request) != twofactor.VERIFY:
        return redirect(_onward(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            passed = twofactor.check_code(request, form.cleaned_data["code"]) is not None
        except twofactor.TooSoon:
            form.add_error("code", "That was quick after a wrong code: wait a few seconds, then try again.")
            return render(request, "registration/two_factor_verify.html", {"form": form, "next": _onward(request)})
        if passed:
            return redirect(_onward(request))
        if not request.user.is_authenticated:
            messages.error(request, "Too many wrong codes: sign in again.")
            return redirect("login")
        form.add_error("code", "That code is not right, or it was used already. Try the newest code.")
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _onward(request)})


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Set up (or replace) the authenticator app. Someone who already has a second factor
    must have passed it in this session (the middleware sees to that)."""
    if twofactor.owes_code_before_changing(request):
        return _code_first(request)
    device = twofactor.unconfirmed_app_device(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = twofactor.confirm_app_device(request, device, form.cleaned_data["code"])
        if codes is not None:
            request.session[twofactor.NEW_CODES_KEY] = codes
            messages.success(request, "Two-factor sign-in is on. Keep your recovery codes somewhere safe.")
            return redirect("two_factor_codes")
        form.add_error("code", "That code is not right: check the time on your phone and try the newest code.")
    context = {
        "form": form,
        "qr": twofactor.qr_svg(device),
        "secret": twofactor.app_key(device),
        "required": twofactor.required(request.user),
        "next": _onward(request),
    }
    return render(request, "registration/two_factor_setup.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_codes(request):
    """Your two-factor status; new recovery codes are shown once, here."""
    if request.method == "POST":
        if twofactor.owes_code_before_changing(request):
            return _code_first(request)
        if not twofactor.has_second_factor(request.user):
            return redirect("two_factor_setup")
        request.session[twofactor.NEW_CODES_KEY] = twofactor.new_recovery_codes(request.user)
        messages.success(request, "New recovery codes made; the old ones no longer work.")
        return redirect("two_factor_codes")
    codes = request.session.pop(twofactor.NEW_CODES_KEY, None)
    context = {
        "codes": [twofactor.shown(c) for c in codes] if codes else None,
        "enabled": twofactor.has_second_factor(request.user),
        "left": len(twofactor.unused_recovery_codes(request.user)),
        "required": twofactor.required(request.user),
    }
    return render(request, "registration/two_factor_codes.html", context)


@roles.required(roles.MANAGE_SIGN_INS)
@require_POST
def two_factor_reset(request):
    form = ResetForm(request.POST, by=request.user)
    if form.is_valid():
        user = form.cleaned_data["username"]
        twofactor.reset(user, by=request.user, request=request)
        messages.success(request, f"Two-factor sign-in of {user.username} was reset: they set it up again at sign-in.")
    else:
        messages.error(request, " ".join(form.errors.get("username", ["Give a username."])))
    return redirect("lockouts")
