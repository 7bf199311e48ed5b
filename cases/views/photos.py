"""Placeholder until the area is written: every name answers 404."""

from django.http import Http404


def photo_gallery(request, **kwargs):
    raise Http404


def photo_upload(request, **kwargs):
    raise Http404


def photo_compare(request, **kwargs):
    raise Http404


def photo_file(request, **kwargs):
    raise Http404


def photo_screen(request, **kwargs):
    raise Http404


def photo_thumb(request, **kwargs):
    raise Http404


def photo_archive(request, **kwargs):
    raise Http404
