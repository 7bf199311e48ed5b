"""Staff workspace URLs. Every view states its role with a decorator (smpclinic.roles)."""

from django.urls import path

from cases.views import clients, diary, followups, home, invitations, photos, plans, sessions, workspace

urlpatterns = [
    path("", home.staff_home, name="home"),
    # Clients (staff)
    path("clients/", clients.client_list, name="client_list"),
    path("clients/new/", clients.client_create, name="client_create"),
    path("clients/<uuid:client_id>/", clients.client_detail, name="client_detail"),
    path("clients/<uuid:client_id>/edit/", clients.client_edit, name="client_edit"),
    path("clients/<uuid:client_id>/consents/new/", clients.consent_record, name="consent_record"),
    path("clients/<uuid:client_id>/invite/", invitations.client_invite, name="client_invite"),
    # Cases, consultations, issues (staff)
    path("clients/<uuid:client_id>/cases/new/", workspace.case_create, name="case_create"),
    path("cases/<uuid:case_id>/", workspace.case_detail, name="case_detail"),
    path("cases/<uuid:case_id>/history/", workspace.case_history, name="case_history"),
    path("cases/<uuid:case_id>/edit/", workspace.case_edit, name="case_edit"),
    path("cases/<uuid:case_id>/status/", workspace.case_status, name="case_status"),
    path("cases/<uuid:case_id>/consultations/new/", workspace.consultation_create, name="consultation_create"),
    path("consultations/<uuid:consultation_id>/edit/", workspace.consultation_edit, name="consultation_edit"),
    path("cases/<uuid:case_id>/issues/new/", workspace.issue_create, name="issue_create"),
    path("issues/<uuid:issue_id>/edit/", workspace.issue_edit, name="issue_edit"),
    # Treatment plans (staff; review is managers only)
    path("cases/<uuid:case_id>/plans/new/", plans.plan_create, name="plan_create"),
    path("plans/<uuid:plan_id>/", plans.plan_detail, name="plan_detail"),
    path("plans/<uuid:plan_id>/edit/", plans.plan_edit, name="plan_edit"),
    path("plans/<uuid:plan_id>/steps/new/", plans.step_create, name="step_create"),
    path("steps/<uuid:step_id>/edit/", plans.step_edit, name="step_edit"),
    path("plans/<uuid:plan_id>/submit/", plans.plan_submit, name="plan_submit"),
    path("plans/<uuid:plan_id>/review/", plans.plan_review, name="plan_review"),
    path("plans/<uuid:plan_id>/revise/", plans.plan_revise, name="plan_revise"),
    path("plans/<uuid:plan_id>/discard/", plans.plan_discard, name="plan_discard"),
    path("plans/<uuid:plan_id>/accept/", plans.plan_accept_in_clinic, name="plan_accept"),
    # Sessions (staff)
    path("cases/<uuid:case_id>/laser-sessions/new/", sessions.laser_session_create, name="laser_session_create"),
    path("laser-sessions/<uuid:session_id>/edit/", sessions.laser_session_edit, name="laser_session_edit"),
    path(
        "cases/<uuid:case_id>/correction-sessions/new/",
        sessions.correction_session_create,
        name="correction_session_create",
    ),
    path(
        "correction-sessions/<uuid:session_id>/edit/",
        sessions.correction_session_edit,
        name="correction_session_edit",
    ),
    # Follow-ups (staff)
    path("cases/<uuid:case_id>/follow-ups/new/", followups.followup_create, name="followup_create"),
    path("follow-ups/<uuid:followup_id>/complete/", followups.followup_complete, name="followup_complete"),
    path("follow-ups/<uuid:followup_id>/missed/", followups.followup_missed, name="followup_missed"),
    # Photos: staff upload and browse; files are streamed after a permission check
    # (clients too, for photos shared with them), never from MEDIA_URL.
    path("cases/<uuid:case_id>/photos/", photos.photo_gallery, name="photo_gallery"),
    path("cases/<uuid:case_id>/photos/upload/", photos.photo_upload, name="photo_upload"),
    path("cases/<uuid:case_id>/photos/compare/", photos.photo_compare, name="photo_compare"),
    path("photos/<uuid:photo_id>/", photos.photo_file, name="photo_file"),
    path("photos/<uuid:photo_id>/screen/", photos.photo_screen, name="photo_screen"),
    path("photos/<uuid:photo_id>/thumb/", photos.photo_thumb, name="photo_thumb"),
    path("photos/<uuid:photo_id>/archive/", photos.photo_archive, name="photo_archive"),
    # The diary (staff): day and week pages, booking, moving, cancelling, own calendar feed
    path("diary/", diary.diary_day, name="diary"),
    path("diary/week/", diary.diary_week, name="diary_week"),
    path("cases/<uuid:case_id>/book/", diary.booking_create, name="booking_create"),
    path("bookings/<uuid:booking_id>/move/", diary.booking_reschedule, name="booking_reschedule"),
    path("bookings/<uuid:booking_id>/cancel/", diary.booking_cancel, name="booking_cancel"),
    path("diary/my-calendar/", diary.staff_feed_manage, name="staff_feed_manage"),
    # A calendar app's subscription: no sign-in, the private token is the key.
    path("diary/calendar/<str:token>.ics", diary.staff_calendar_feed, name="staff_calendar_feed"),
]
