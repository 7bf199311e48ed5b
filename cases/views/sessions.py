"""Placeholder until the area is written: every name answers 404."""

from django.http import Http404


def laser_session_create(request, **kwargs):
    raise Http404


def laser_session_edit(request, **kwargs):
    raise Http404


def correction_session_create(request, **kwargs):
    raise Http404


def correction_session_edit(request, **kwargs):
    raise Http404
