"""Site-wide answers that belong to no area."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

FAVICON = "favicon.ico"


@login_not_required
@require_safe
@cache_control(public=True, max_age=7 * 24 * 3600)
def favicon(request):
    """/favicon.ico, which browsers ask for on every site whatever the page links: the
    clinic's icon from static/, to anyone (a 404 here filled the logs on every page)."""
    path = finders.find(FAVICON)
    if path is None:
        raise Http404("No favicon.")
    return FileResponse(open(path, "rb"), content_type="image/x-icon")
