"""Client portal: appointments, shared photos, consents, aftercare."""

from django.urls import path

from cases.portal import care_views as portal_care

urlpatterns = [
    path("portal/appointments/", portal_care.portal_appointments, name="portal_appointments"),
    path(
        "portal/appointments/<uuid:booking_id>/calendar.ics",
        portal_care.portal_appointment_ics,
        name="portal_appointment_ics",
    ),
    path("portal/calendar/", portal_care.portal_calendar_feed_manage, name="portal_calendar_feed_manage"),
    # A calendar app's subscription: no sign-in, the private token is the key.
    path("calendar/<str:token>.ics", portal_care.client_calendar_feed, name="client_calendar_feed"),
    path("portal/photos/", portal_care.portal_photos, name="portal_photos"),
    path("portal/photos/compare/", portal_care.portal_photo_compare, name="portal_photo_compare"),
    path("portal/consents/", portal_care.portal_consents, name="portal_consents"),
    path("portal/consents/sign/", portal_care.portal_consent_sign, name="portal_consent_sign"),
    path("portal/consents/<uuid:consent_id>/", portal_care.portal_consent_detail, name="portal_consent_detail"),
    path(
        "portal/consents/<uuid:consent_id>/withdraw/",
        portal_care.portal_consent_withdraw,
        name="portal_consent_withdraw",
    ),
    path("portal/aftercare/", portal_care.portal_aftercare, name="portal_aftercare"),
]
