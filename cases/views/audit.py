"""Managers' audit pages: the access log (who saw which client's data) and the sign-in
log, each filterable and downloadable as CSV. Both logs are append-only: nothing here
changes them, and downloading one is itself written to the access log."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases import audit
from cases.forms.audit import AccessLogFilterForm, SignInLogFilterForm
from cases.reporting.csv_export import csv_response
from smpclinic import roles

PAGE_SIZE = 100


def _page(request, rows):
    """One page of rows without counting them all (a log grows without end): the next
    page exists when one more row than fits was found."""
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    start = (number - 1) * PAGE_SIZE
    found = list(rows[start : start + PAGE_SIZE + 1])
    return {"rows": found[:PAGE_SIZE], "number": number, "has_next": len(found) > PAGE_SIZE}


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _local(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}"


@roles.required(roles.READ_AUDIT_LOG)
@require_GET
def access_log(request):
    form = AccessLogFilterForm(request.GET or {})  # bound even when empty: no filter
    valid = form.is_valid()
    client = form.chosen_client if valid else None
    audit.saw(request, "access log", client, client_id=client.pk if client else None)
    context = {
        "form": form,
        "client": client,
        "page": _page(request, form.events()) if valid else None,
        "query": _query_without_page(request),
    }
    return render(request, "cases/audit/access_log.html", context)


@roles.required(roles.READ_AUDIT_LOG)
@require_GET
def access_log_csv(request):
    form = AccessLogFilterForm(request.GET or {})
    if not form.is_valid():
        return access_log(request)
    audit.downloaded(request, "access log CSV")
    header = [("Time (clinic)", "User", "Action", "What", "Record id", "Client", "Status", "Address", "Path")]
    body = (
        (
            _local(e.at),
            e.user.username if e.user else "",
            e.get_action_display(),
            e.what,
            e.object_id,
            e.client.full_name if e.client else "",
            e.status or "",
            e.ip or "",
            e.path,
        )
        for e in form.events().iterator(chunk_size=2000)
    )
    return csv_response([*header, *body], f"access-log-{timezone.localdate():%Y-%m-%d}.csv")


@roles.required(roles.READ_AUDIT_LOG)
@require_GET
def sign_in_log(request):
    form = SignInLogFilterForm(request.GET or {})
    rows = form.events() if form.is_valid() else None
    context = {
        "form": form,
        "page": _page(request, rows) if rows is not None else None,
        "query": _query_without_page(request),
    }
    return render(request, "cases/audit/sign_in_log.html", context)


@roles.required(roles.READ_AUDIT_LOG)
@require_GET
def sign_in_log_csv(request):
    form = SignInLogFilterForm(request.GET or {})
    if not form.is_valid():
        return sign_in_log(request)
    audit.downloaded(request, "sign-in log CSV")
    header = [("Time (clinic)", "Event", "User", "Typed", "By", "Address", "Browser")]
    body = (
        (
            _local(e.at),
            e.get_kind_display(),
            e.user.username if e.user else "",
            e.username,
            e.by.username if e.by else "",
            e.ip or "",
            e.user_agent,
        )
        for e in form.events().iterator(chunk_size=2000)
    )
    return csv_response([*header, *body], f"sign-in-log-{timezone.localdate():%Y-%m-%d}.csv")
