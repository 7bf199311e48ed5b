"""Manager pages: the follow-up review queue (managers only), and rescheduling a missed
follow-up (staff and managers: it is offered on the case workspace too)."""

from django.urls import path

from cases.views import review

urlpatterns = [
    path("review/", review.review_queue, name="review_queue"),
    path("follow-ups/<uuid:followup_id>/reschedule/", review.followup_reschedule, name="followup_reschedule"),
]
