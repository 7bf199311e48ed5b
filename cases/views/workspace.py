"""Placeholder until the area is written: every name answers 404."""

from django.http import Http404


def case_create(request, **kwargs):
    raise Http404


def case_detail(request, **kwargs):
    raise Http404


def case_edit(request, **kwargs):
    raise Http404


def case_status(request, **kwargs):
    raise Http404


def consultation_create(request, **kwargs):
    raise Http404


def consultation_edit(request, **kwargs):
    raise Http404


def issue_create(request, **kwargs):
    raise Http404


def issue_edit(request, **kwargs):
    raise Http404
