"""Who saw what: every read of a client's data is written to `AccessEvent`.

A view that shows clinical data says so with `saw(request, what, obj, client_id=...)`
after its access check, passing the client id of objects it has already loaded (no query
is made for the audit). A portal view whose access check did not keep the client record
(the plan PDF: the check is inside the PDF's context) calls `saw_own(request, what)`: the
signed-in client's id is then found inside the INSERT itself, by a subquery on their one
client record, rather than by a lookup of its own.

`AccessLogMiddleware` writes what the request collected in one INSERT when the response
is ready, with the status answered, so a page costs one query more, whatever it lists.
List pages (the staff home, the client list, the review queue, a report) record one event
for the page and its query string, not one per row: the search is what tells who was
looked for. A form opened on a record shows the record too: it records on every request,
shown or posted, and the status says which (200 shown, 302 saved or refused).

A request refused with 403 or 404 on a URL that names a record (a `<…_id>` in its
pattern) is written as `denied`, with the id asked for and no client: probing other
people's records leaves a trace even though nothing was shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Subquery
from django.http import HttpRequest, HttpResponse

from cases.models import AccessEvent, Client
from smpclinic.audit import recorded_ip

VIEWED = AccessEvent.Action.VIEWED
DOWNLOADED = AccessEvent.Action.DOWNLOADED


@dataclass
class _Read:
    action: str
    what: str
    object_id: str
    client_id: int | None
    own: bool = False  # the signed-in client's own record: resolved in the INSERT


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


def saw_own(request: HttpRequest, what: str, obj=None, *, action: str = AccessEvent.Action.VIEWED) -> None:
    """A portal read: the signed-in client sees their own records. Their client id is not
    looked up here; the INSERT takes it from their client record (one-to-one with the
    user), so the read costs no query before the one insert."""
    saw(request, what, obj, action=action)
    request._access_reads[-1].own = True


def _denied(request: HttpRequest) -> list[_Read]:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return []
    ids = {k: v for k, v in match.kwargs.items() if k.endswith("_id")}
    return [_Read(AccessEvent.Action.DENIED, key.removesuffix("_id"), str(value), None) for key, value in ids.items()]


def _client_of(read: _Read, user_id: int | None):
    if read.action == AccessEvent.Action.DENIED:
        return None
    if read.own and read.client_id is None and user_id is not None:
        return Subquery(Client.objects.filter(user_id=user_id).values("pk")[:1])
    return read.client_id


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
        ip = recorded_ip(request)
        path = request.get_full_path()[:500]
        AccessEvent.objects.bulk_create(
            AccessEvent(
                user_id=user_id,
                action=read.action,
                what=read.what,
                object_id=read.object_id[:64],
                client_id=_client_of(read, user_id),
                path=path,
                status=response.status_code,
                ip=ip,
            )
            for read in reads
        )
        return response
