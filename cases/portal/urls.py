"""The client portal: a client's own records, found through request.user."""

from django.urls import path

from cases.portal import views as portal

urlpatterns = [
    path("portal/", portal.portal_plan, name="portal_plan"),
    path("portal/plan.pdf", portal.portal_plan_pdf, name="portal_plan_pdf"),
    path("portal/plans/<uuid:plan_id>/accept/", portal.portal_plan_accept, name="portal_plan_accept"),
]
