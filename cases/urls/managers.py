"""Manager pages: the follow-up review queue and the reports (managers only)."""

urlpatterns = []
