"""Placeholder until the area is written: every name answers 404."""

from django.http import Http404


def client_list(request, **kwargs):
    raise Http404


def client_create(request, **kwargs):
    raise Http404


def client_detail(request, **kwargs):
    raise Http404


def client_edit(request, **kwargs):
    raise Http404


def consent_record(request, **kwargs):
    raise Http404
