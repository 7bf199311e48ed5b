"""Every page of the cases app is walked (the same table and records as
tests/test_url_permissions.py): each one that shows a client's record, forms included,
writes one access event naming that client and the record its URL asks for; list pages
write one event naming no client. A new page fails here until it is audited or listed
below as showing nothing of a client."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import AccessEvent
from smpclinic import roles
from tests import test_url_permissions as permissions
from tests.test_url_permissions import ROLE_BY_URL, _kwargs_for
from tests.url_roles import PHOTO, PORTAL
from tests.url_roles.portal import STAFF_HOME

pytestmark = pytest.mark.django_db

# The permission walk's personas and records, made once for this module.
walk = permissions.walk
_private_media = permissions._private_media

# Pages that show nothing of any client, and why.
SHOWS_NO_CLIENT = {
    "cases:client_create": "a blank form",
    "cases:reports": "the list of reports, no figures",
    "cases:sign_in_log": "sign-ins only; its CSV download is recorded",
    "cases:clinic_logo_edit": "the clinic's logo",
}

PERSONA_BY_ROLE = {STAFF_HOME: "staff", PHOTO: "staff", PORTAL: "client"}
PERSONA_BY_ROLE |= {
    action: "staff" if roles.STAFF in action.roles else "manager"
    for action in roles.MATRIX
    if roles.MANAGERS in action.roles
}

# Pages that open with GET (actions that only take a POST show nothing), by a role that may.
PAGES = sorted(
    name
    for name, (role, method) in ROLE_BY_URL.items()
    if name.startswith("cases:") and method == "get" and role in PERSONA_BY_ROLE
)


def test_the_walk_covers_the_pages_that_show_client_records():
    """The walk is not empty by accident: the record pages and the portal are in it."""
    for name in ("cases:client_edit", "cases:laser_session_edit", "cases:photo_thumb", "cases:portal_consent_sign"):
        assert name in PAGES


@pytest.mark.parametrize("name", PAGES)
def test_every_page_that_shows_a_clients_record_writes_its_event(name, walk):
    role, _method = ROLE_BY_URL[name]
    user = walk["users"][PERSONA_BY_ROLE[role]]
    client_a = walk["users"]["client"].client
    kwargs = _kwargs_for(name, walk["world"])
    url = reverse(name, kwargs=kwargs)
    last = AccessEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    response = permissions.client_as(walk, PERSONA_BY_ROLE[role]).get(url)

    assert response.status_code == 200, (name, response.status_code)
    written = list(AccessEvent.objects.filter(pk__gt=last))
    if name in SHOWS_NO_CLIENT:
        assert written == [], name
        return
    assert len(written) == 1, (name, written)
    (event,) = written
    assert (event.user, event.status, event.path) == (user, 200, url)
    assert event.action in (AccessEvent.Action.VIEWED, AccessEvent.Action.DOWNLOADED)
    if kwargs or role == PORTAL:
        # A record of client A's, or the portal, where every page is the client's own.
        assert event.client_id == client_a.pk, (name, event.what)
        assert event.object_id == (str(next(iter(kwargs.values()))) if kwargs else ""), (name, event.what)
    else:
        # A list page (home, clients, review queue, a report): one event for the page.
        assert event.client_id is None, (name, event.what)
