"""Placeholder until the area is written: every name answers 404."""

from django.http import Http404


def followup_create(request, **kwargs):
    raise Http404


def followup_complete(request, **kwargs):
    raise Http404


def followup_missed(request, **kwargs):
    raise Http404
