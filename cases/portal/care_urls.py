"""Client portal: appointments, shared photos, consents, aftercare."""

from django.urls import path

from cases.portal import care_views as portal_care

urlpatterns = [
    path("portal/appointments/", portal_care.portal_appointments, name="portal_appointments"),
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
