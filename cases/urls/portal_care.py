"""Client portal: appointments, shared photos, consents, aftercare."""

urlpatterns = []
