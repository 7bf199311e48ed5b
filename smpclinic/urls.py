from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cases.views import invitations
from smpclinic import health, lockouts, mail, twofactor_views, views
from smpclinic.throttle import reset_rate_limited

# The 500 page shows the request id (smpclinic.requestlog) for staff to quote.
handler500 = "smpclinic.views.server_error"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", reset_rate_limited(mail.PasswordResetView.as_view()), name="password_reset"),
    path("login/lockouts/", lockouts.lockout_list, name="lockouts"),
    path("login/code/", twofactor_views.two_factor_verify, name="two_factor_verify"),
    path("account/two-factor/", twofactor_views.two_factor_codes, name="two_factor_codes"),
    path("account/two-factor/set-up/", twofactor_views.two_factor_setup, name="two_factor_setup"),
    path("login/two-factor/reset/", twofactor_views.two_factor_reset, name="two_factor_reset"),
    path("password/reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("invite/<str:token>/", invitations.invitation_accept, name="invitation_accept"),
    path("favicon.ico", views.favicon, name="favicon"),
    # Answered by smpclinic.health.HealthCheckMiddleware before the rest of the stack;
    # listed here so that reverse() and the URL walk know them.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("settings/", views.clinic_settings, name="clinic_settings"),
    path("settings/diary/", views.diary_settings, name="diary_settings"),
    path("admin/", admin.site.urls),
    path("team/", include("artists.urls")),
    path("", include("cases.urls")),
]
