"""Team pages for managers: artists and their certifications."""

from django.urls import path

from artists import views

app_name = "artists"

urlpatterns = [
    path("", views.team, name="team"),
    path("<uuid:artist_id>/certifications/new/", views.certification_add, name="certification_add"),
    path("certifications/<uuid:certification_id>/renew/", views.certification_renew, name="certification_renew"),
]
