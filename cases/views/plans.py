"""Placeholder until the area is written: every name answers 404."""

from django.http import Http404


def plan_create(request, **kwargs):
    raise Http404


def plan_detail(request, **kwargs):
    raise Http404


def plan_edit(request, **kwargs):
    raise Http404


def step_create(request, **kwargs):
    raise Http404


def step_edit(request, **kwargs):
    raise Http404


def plan_submit(request, **kwargs):
    raise Http404


def plan_review(request, **kwargs):
    raise Http404


def plan_revise(request, **kwargs):
    raise Http404


def plan_accept_in_clinic(request, **kwargs):
    raise Http404
