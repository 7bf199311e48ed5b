"""Placeholder until the area is written: every name answers 404."""

from django.http import Http404


def staff_home(request, **kwargs):
    raise Http404
