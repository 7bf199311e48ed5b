"""Team pages for managers: artists and their certifications."""

app_name = "artists"

urlpatterns = []
