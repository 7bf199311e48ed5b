"""Who saw what: every read of a client's data is written to `AccessEvent`.

A view that shows clinical data says so with `saw(request, what, obj, client_id=...)`
after its access check, passing the client id of objects it has already loaded (no query
is made for the audit). `AccessLogMiddleware` writes what the request collected in one
INSERT when the response is ready, with the status answered, so a page costs one query
more, whatever it lists. List pages (the client list, the review queue, a report) record
one event for the page and its query string, not one per row: the search is what tells
who was looked for.

A request refused with 403 or 404 on a URL that names a record (a `<…_id>` in its
pattern) is written as `denied`, with the id asked for and no client: probing other
people's records leaves a trace even though nothing was shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse

from cases.models import AccessEvent
from smpclinic.http import client_ip


@dataclass
class _Read:
    action: str
    what: str
    object_id: str
    client_id: int | None


def saw(
    request: HttpRequest,
    what: str,
    obj=None,
    *,
    client_id: int | None = None,
    action: str = AccessEvent.Action.VIEWED,
) -> None:
    """Note that this request shows `what` (e.g. "case"), `obj` being the record (its
    public id is kept) and `client_id` whose data it is."""
    object_id = str(getattr(obj, "public_id", "") or "") if obj is not None else ""
    if client_id is None and obj is not None:
        client_id = getattr(obj, "client_id", None)
    reads = request.__dict__.setdefault("_access_reads", [])
    reads.append(_Read(action, what, object_id, client_id))


def downloaded(request: HttpRequest, what: str, obj=None, *, client_id: int | None = None) -> None:
    """A file handed over (a photo file, a PDF, a CSV)."""
    saw(request, what, obj, client_id=client_id, action=AccessEvent.Action.DOWNLOADED)


def _denied(request: HttpRequest) -> list[_Read]:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return []
    ids = {k: v for k, v in match.kwargs.items() if k.endswith("_id")}
    return [_Read(AccessEvent.Action.DENIED, key.removesuffix("_id"), str(value), None) for key, value in ids.items()]


class AccessLogMiddleware:
    """Writes the reads a request noted (`saw`), or its refusal, in one INSERT."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        reads = request.__dict__.pop("_access_reads", [])
        if response.status_code in (403, 404):
            reads = _denied(request)
        if not reads:
            return response
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        ip = client_ip(request)
        path = request.get_full_path()[:500]
        AccessEvent.objects.bulk_create(
            AccessEvent(
                user_id=user_id,
                action=read.action,
                what=read.what,
                object_id=read.object_id[:64],
                client_id=read.client_id if read.action != AccessEvent.Action.DENIED else None,
                path=path,
                status=response.status_code,
                ip=ip,
            )
            for read in reads
        )
        return response
