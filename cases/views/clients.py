"""Clients (staff): list with search and filters, register, edit, detail, consent signed in clinic."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models.functions import Lower
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from cases import audit
from cases.access import get_client_for_user
from cases.forms.clients import ClientFilterForm, ClientForm, ConsentRecordForm
from cases.models import Client, Consent, ConsentText
from cases.models.clients import count_open_cases
from cases.services import clients as services
from cases.services import consents as consent_services
from cases.services.followups import day
from smpclinic.concurrency import create_once
from smpclinic.forms import add_service_errors
from smpclinic.http import client_ip
from smpclinic.links import Link
from smpclinic.models import ClinicSettings
from smpclinic.paginators import ACTIVE_ROWS, EstimatedCountPaginator
from smpclinic.roles import staff_required

CLIENTS_PER_PAGE = 25
# Names whatever their letter case, as a search's few matches are sorted (the index
# client_list_order).
LIST_ORDER = (Lower("last_name"), Lower("first_name"), "pk")
# Up to this many clients matching a search or filter are sorted here, not in the database.
FEW_MATCHES = 2000


def _detail_url(client: Client) -> str:
    return reverse("cases:client_detail", kwargs={"client_id": client.public_id})


def _few_matches_page(request, clients):
    """The page of a search or filter that matches at most FEW_MATCHES clients, or None.

    The matches' names are read first, through the search's own indexes, and sorted here
    as the whole list is (LIST_ORDER: lower-cased, each name lowered once rather than at
    every comparison); only the page's rows are then read in full. Sorted by name in
    the database instead, PostgreSQL walks the name index and skips every client who does
    not match: most of the clinic when the name is late in the alphabet.
    """
    names = clients.order_by().values_list("last_name", "first_name", "pk")[: FEW_MATCHES + 1]
    keys = [(last.lower(), first.lower(), pk) for last, first, pk in names]
    if len(keys) > FEW_MATCHES:
        return None  # a common word: matches come soon enough in name order
    keys.sort()
    page = Paginator([pk for _, _, pk in keys], CLIENTS_PER_PAGE).get_page(request.GET.get("page"))
    rows = Client.objects.filter(pk__in=page.object_list).for_list().in_bulk()
    page.object_list = [rows[pk] for pk in page.object_list]
    return page


_NO_CONTRAINDICATION = '<span class="text-body-secondary">None</span>'
_CONTRAINDICATION = '<span class="badge text-bg-danger">Contraindication</span>'


def _row_html(client: Client, url: str, today, clinic) -> str:
    """A row of the client list, written here rather than by a template: the search is
    the page a receptionist opens most, and drawing 25 rows through the template took
    most of its drawing. Every text is escaped; the link is made by `Link`."""
    name = f'<a href="{url}">{escape(client.last_name)}, {escape(client.first_name)}</a>'
    if client.preferred_name:
        name += f' <span class="text-body-secondary">({escape(client.preferred_name)})</span>'
    flag = _CONTRAINDICATION if client.contraindications(on=today, clinic=clinic) else _NO_CONTRAINDICATION
    return (
        f"<tr><td>{name}</td>"
        f"<td>{day(client.date_of_birth)} ({client.age_on(today)})</td>"
        f"<td>{escape(client.fitzpatrick_type)}</td>"
        f'<td class="num">{client.open_case_count}</td>'
        f"<td>{flag}</td></tr>"
    )


@staff_required
@require_http_methods(["GET", "HEAD"])
def client_list(request):
    today = timezone.localdate()
    clinic = ClinicSettings.cached()
    form = ClientFilterForm(request.GET or None)
    clients = form.filter(Client.objects.visible_to(request.user), clinic=clinic)
    filtered = form.is_bound and any(value for name, value in form.data.items() if name != "page")
    page = _few_matches_page(request, clients) if filtered else None
    if page is None:
        clients = clients.for_list().order_by(*LIST_ORDER)
        # The whole list is numbered from PostgreSQL's statistics, not a COUNT of every client.
        paginator = EstimatedCountPaginator(clients, CLIENTS_PER_PAGE, rows=None if filtered else ACTIVE_ROWS)
        page = paginator.get_page(request.GET.get("page"))
    shown = list(page)
    count_open_cases(shown)
    detail = Link("cases:client_detail", "client_id")  # reversed once for the page
    rows = [_row_html(client, detail(client.public_id), today, clinic) for client in shown]
    # Safe: every text escaped in _row_html, the links made by Link from UUIDs.
    page_rows = mark_safe("\n".join(rows))  # nosec B308 B703
    audit.saw(request, "client list")
    return render(
        request, "cases/clients/list.html", {"form": form, "page": page, "rows": page_rows, "filtered": filtered}
    )


def _save_client(request, form: ClientForm, client: Client | None):
    """Validate, call the service, and either redirect or return the possible duplicates."""
    allow = form.cleaned_data.get("save_anyway", False)
    try:
        if client is None:
            saved = services.client_create(allow_duplicate=allow, **form.client_fields())
        else:
            saved = services.client_update(client=client, allow_duplicate=allow, **form.client_fields())
    except services.PossibleDuplicateClient as warning:
        return None, warning.duplicates
    except ValidationError as error:
        add_service_errors(form, error)
        return None, []
    return saved, []


@staff_required
@require_http_methods(["GET", "POST"])
def client_create(request):
    form = ClientForm(request.POST or None)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        client, duplicates = _save_client(request, form, None)
        if client is not None:
            messages.success(request, f"{client.full_name} is registered.")
            return redirect(_detail_url(client))
    return render(request, "cases/clients/form.html", {"form": form, "duplicates": duplicates, "client": None})


@staff_required
@require_http_methods(["GET", "POST"])
def client_edit(request, client_id):
    client = get_client_for_user(request.user, client_id)
    audit.saw(request, "client form", client, client_id=client.pk)
    stored_name = client.full_name  # the form changes the instance in memory while validating
    form = ClientForm(request.POST or None, instance=client)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        saved, duplicates = _save_client(request, form, client)
        if saved is not None:
            messages.success(request, f"{saved.full_name}'s details are saved.")
            return redirect(_detail_url(saved))
    context = {"form": form, "duplicates": duplicates, "client": client, "client_name": stored_name}
    return render(request, "cases/clients/form.html", context)


@staff_required
@require_http_methods(["GET", "HEAD"])
def client_detail(request, client_id):
    client = get_client_for_user(request.user, client_id)
    audit.saw(request, "client", client, client_id=client.pk)
    clinic = ClinicSettings.load()
    today = timezone.localdate()
    contraindications = client.contraindications(on=today, clinic=clinic)
    context = {
        "client": client,
        "age": client.age_on(today),
        "blocking": [c for c in contraindications if c.blocks_laser],
        "other_contraindications": [c for c in contraindications if not c.blocks_laser],
        "consents": client.consents.select_related("text", "witnessed_by"),
        "cases": client.cases.active().for_list(),
    }
    return render(request, "cases/clients/detail.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def consent_record(request, client_id):
    """Record a consent the client signed in the clinic, witnessed by the user; the same
    signing rules as the portal (`consent_sign`), and saved once however often it is posted."""
    client = get_client_for_user(request.user, client_id)
    audit.saw(request, "consent form", client, client_id=client.pk)
    form = ConsentRecordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.submission_token
        try:
            consent, created = create_once(
                Consent,
                token,
                lambda: consent_services.consent_sign(
                    client=client,
                    text=form.cleaned_data["text"],
                    typed_name=form.cleaned_data["signed_name"],
                    ip=client_ip(request),
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                    witnessed_by=request.user,
                    submission_token=token,
                ),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if created:
                messages.success(request, f"{consent.text} signed by {consent.signed_name} is recorded.")
            else:
                messages.info(request, "This consent was already recorded.")
            return redirect(_detail_url(client))
    context = {"client": client, "form": form, "texts": ConsentText.objects.current().order_by("kind")}
    return render(request, "cases/clients/consent_form.html", context)
