"""Manager pages: the follow-up review queue (managers only), and rescheduling a missed
follow-up (staff and managers: it is offered on the case workspace too); exporting or
anonymising a client (managers only)."""

from django.urls import path

from cases.views import privacy, review

urlpatterns = [
    path("review/", review.review_queue, name="review_queue"),
    path("follow-ups/<uuid:followup_id>/reschedule/", review.followup_reschedule, name="followup_reschedule"),
    # Data subject rights (managers only): docs/privacy.md
    path("clients/<uuid:client_id>/export/", privacy.client_export, name="client_export"),
    path("clients/<uuid:client_id>/anonymise/", privacy.client_anonymise, name="client_anonymise"),
]
