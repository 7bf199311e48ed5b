"""Manager pages: the follow-up review queue (managers only), and rescheduling a missed
follow-up (staff and managers: it is offered on the case workspace too); exporting or
anonymising a client, and the audit logs (managers only); the clinic's logo (uploaded by
managers; the image itself answers anyone, the sign-in page shows it)."""

from django.urls import path

from cases.views import audit, clinic, privacy, review

urlpatterns = [
    path("review/", review.review_queue, name="review_queue"),
    # Who saw what, who signed in (managers only): append-only logs
    path("audit/access/", audit.access_log, name="access_log"),
    path("audit/access.csv", audit.access_log_csv, name="access_log_csv"),
    path("audit/sign-ins/", audit.sign_in_log, name="sign_in_log"),
    path("audit/sign-ins.csv", audit.sign_in_log_csv, name="sign_in_log_csv"),
    path("follow-ups/<uuid:followup_id>/reschedule/", review.followup_reschedule, name="followup_reschedule"),
    # Data subject rights (managers only): docs/privacy.md
    path("clients/<uuid:client_id>/export/", privacy.client_export, name="client_export"),
    path("clients/<uuid:client_id>/anonymise/", privacy.client_anonymise, name="client_anonymise"),
    # The clinic's logo: managers upload it (Clinic settings); the PNG answers anyone.
    path("settings/logo/", clinic.clinic_logo_edit, name="clinic_logo_edit"),
    path("clinic/logo.png", clinic.clinic_logo, name="clinic_logo"),
]
