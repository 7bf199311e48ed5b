"""The client portal: a client's own records, found through request.user."""

urlpatterns = []
