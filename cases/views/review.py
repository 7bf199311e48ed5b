"""The managers' review page: plans to approve and the follow-up queue; and rescheduling
a missed follow-up in one step.

Plans waiting for a manager's approval come first, then four sections of follow-ups,
most urgent first: overdue (scheduled, past their due date), due in the next 7 days,
then those done and not yet reviewed by a manager: with adverse findings (each
reviewed on its own, with a note, showing what was found), and the others completed or
missed (ticked and reviewed together). Each section is paged and counted up to
MAX_ROWS. It costs the same few queries whatever the number of plans and follow-ups
(tests/cases/test_review_queue.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import linebreaksbr, pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from cases import audit
from cases.access import get_follow_up_for_user
from cases.choices import FollowUpStatus, PlanStatus
from cases.forms.review import RescheduleForm, ReviewFilterForm, ReviewForm, reschedule_initial, version_key
from cases.models import FollowUp, TreatmentPlan
from cases.models.followups import ADVERSE_HEALING, DUE_SOON_DAYS
from cases.services import followups as services
from cases.services.followups import day
from smpclinic import roles
from smpclinic.forms import add_service_errors
from smpclinic.http import safe_next
from smpclinic.links import Link
from smpclinic.lookups import with_choice_rows
from smpclinic.paginators import CappedRows, EstimatedCountPaginator, capped_counts
from smpclinic.roles import staff_required
from smpclinic.templatetags.clinic import person

# Each section is paged (`?<section>-page=2`), PAGE_ROWS[slug] rows a page, and counted no
# further than MAX_ROWS: past that it says "100+" and the filters narrow it. Counting
# costs a walk of the rows counted (at 100,000 clients, up to 500 rows of each of the
# five lists took 40 ms, longer than the rest of the page; 100 take a few).
# The rows a manager acts on one at a time (a plan to open, an overdue follow-up to mark
# missed or chase) come ten a page, the longest waiting first; the rows reviewed
# together with one tick each come 25 a page, a batch for the bulk form. A page of a
# hundred rows with their forms took longer to draw than everything else on it.
PAGE_ROWS = {"plans-to-approve": 10, "overdue": 10, "due-soon": 10, "adverse-findings": 10, "awaiting-review": 25}
# The sections whose rows a manager reviews: one by one with a note (adverse findings),
# or ticked and reviewed together.
REVIEWED = ("adverse-findings", "awaiting-review")
MAX_ROWS = 100


def waiting_plans(user, *, counting: bool = False):
    """Proposed plans no manager has approved yet, of live cases, the longest waiting first:
    a walk of the partial index `plan_awaiting_approval`."""
    return (
        TreatmentPlan.objects.visible_to(user, counting=counting)
        .filter(status=PlanStatus.PROPOSED, approved_at__isnull=True)
        .select_related("case__client", "submitted_by")
        # What a row shows, and only that (the client's record alone has thirty columns).
        .only(
            *("public_id", "version", "submitted_at", "case__public_id", "case__reference"),
            *("case__client__first_name", "case__client__last_name"),
            *("submitted_by__first_name", "submitted_by__last_name", "submitted_by__username"),
        )
        .order_by("submitted_at", "pk")
    )


def plans_to_approve(user, limit: int) -> tuple[list[TreatmentPlan], bool]:
    """The `limit` plans waiting longest for approval (one query; one row past `limit` is
    fetched to say the list was cut)."""
    plans = list(waiting_plans(user)[: limit + 1])
    _describe_plans(plans[:limit])
    return plans[:limit], len(plans) > limit


def _describe_plans(plans: list[TreatmentPlan]) -> None:
    """The links of each row of plans to approve, made once for the list (`Link`)."""
    case_link, review_link = Link("cases:case_detail", "case_id"), Link("cases:plan_review", "plan_id")
    for plan in plans:
        plan.case_url = case_link(plan.case.public_id)
        plan.review_url = review_link(plan.public_id)


def _page_url(request, slug: str, number: int) -> str:
    """This page at another page of one section, the filters and the other sections' pages kept."""
    query = request.GET.copy()
    query[f"{slug}-page"] = str(number)
    return f"?{query.urlencode()}#{slug}"


def _paged(request, slug: str, rows: CappedRows) -> dict:
    """The page of one section the query string asks for (an unknown page number shows
    the first, one past the end the last), with its links to the pages either side."""
    page = EstimatedCountPaginator(rows, PAGE_ROWS[slug]).get_page(request.GET.get(f"{slug}-page"))
    return {
        "slug": slug,
        "page": page,
        "rows": page.object_list,
        "total": rows.count(),
        "more": rows.more,
        "count": f"{rows.count()}+" if rows.more else str(rows.count()),  # the badge
        "previous_url": _page_url(request, slug, page.previous_page_number()) if page.has_previous() else None,
        "next_url": _page_url(request, slug, page.next_page_number()) if page.has_next() else None,
    }


class _RowLinks:
    """The links a page of follow-ups needs, each reversed once for the page (`Link`)."""

    def __init__(self):
        self.case = Link("cases:case_detail", "case_id", "#follow-ups")
        self.missed = Link("cases:followup_missed", "followup_id")
        self.reschedule = Link("cases:followup_reschedule", "followup_id")


def _describe(rows: list[FollowUp], today: datetime.date, links: _RowLinks, selected: set[str]) -> None:
    """What a row shows beyond its fields, worked out here once rather than in the
    template at each of its uses: how late it is, its side effects split into adverse and
    expected, its links, the words that name it to a screen reader, the name of its
    version input, whether the re-shown bulk form ticks it (`selected`)."""
    for followup in rows:
        followup.version_key = version_key(followup)
        if hasattr(followup, "has_adverse_findings"):  # the awaiting-review rows
            followup.adverse_effects, followup.expected_effects = followup.side_effects_found()
        client = followup.case.client.full_name
        followup.client_name = client
        followup.case_url = links.case(followup.case.public_id)
        followup.kind_label = followup.get_kind_display()
        followup.due_text = day(followup.due_on)
        followup.named = f"{followup.kind_label.lower()} due {followup.due_text} for {client}"
        followup.ticked = str(followup.public_id) in selected
        followup.days_overdue = None
        followup.days_late = None
        followup.due_in = (followup.due_on - today).days
        followup.missed_url = followup.reschedule_url = None
        followup.status_text = followup.get_status_display()
        followup.status_badge = ""
        if followup.status == FollowUpStatus.SCHEDULED and followup.due_on < today:
            followup.days_overdue = (today - followup.due_on).days
            followup.missed_url = links.missed(followup.public_id)
            followup.status_badge = "overdue"
        elif followup.status == FollowUpStatus.COMPLETED and followup.completed_on:
            followup.days_late = max((followup.completed_on - followup.due_on).days, 0)
            followup.status_text += " " + day(followup.completed_on)
        elif followup.status == FollowUpStatus.MISSED:
            followup.days_overdue = max((today - followup.due_on).days, 0)
            followup.rescheduled_to = getattr(followup, "rescheduled_as", None)
            if followup.rescheduled_to is None:
                followup.reschedule_url = links.reschedule(followup.public_id)
            followup.status_badge = "missed"
        followup.lateness, followup.lateness_quiet = _lateness(followup)
        if followup.status_badge == "overdue":
            followup.row_class = "table-danger"
        else:
            followup.row_class = "table-warning" if getattr(followup, "has_adverse_findings", False) else ""


def _name_people(rows: list[FollowUp]) -> None:
    """Each row's assignee and the person who saw the client, by name: one query for the
    people of every row on the page (`FollowUpQuerySet.for_review`)."""
    ids = {row.assignee_id for row in rows} | {row.completed_by_id for row in rows}
    ids.discard(None)
    names = (
        {
            user.pk: person(user, "")
            for user in get_user_model().objects.filter(pk__in=ids).only("username", "first_name", "last_name")
        }
        if ids
        else {}
    )
    for row in rows:
        row.assignee_name = names.get(row.assignee_id, "")
        row.completed_by_name = names.get(row.completed_by_id, "")


@dataclass(frozen=True)
class _RowContext:
    """What every row of the page shares: the dates of the reschedule inputs, and a
    refused one-row review shown again (its row and its note)."""

    today: str
    reschedule_on: str
    single_selected: set
    single_note: str


def _outcome_html(followup: FollowUp, ctx: _RowContext) -> str:
    """The "Outcome" cell's content of a row reviewed here: what was found (completed), or
    where a missed follow-up was booked again, or the form that books it again."""
    key = followup.public_id
    if followup.status == FollowUpStatus.COMPLETED:
        healing = escape(followup.get_healing_display())
        if followup.healing in ADVERSE_HEALING:
            healing = f'<span class="badge text-bg-danger">{healing}</span>'
        satisfaction = (
            f"satisfaction {followup.satisfaction}/5"
            if followup.satisfaction
            else '<span class="text-body-secondary">satisfaction not recorded</span>'
        )
        if followup.adverse_effects or followup.expected_effects:
            effects = "Side effects: " + "".join(
                [f'<span class="badge text-bg-danger">{escape(e.label)}</span> ' for e in followup.adverse_effects]
                + [
                    f'<span class="badge text-bg-secondary">{escape(e.label)} (expected)</span> '
                    for e in followup.expected_effects
                ]
            )
        else:
            effects = '<span class="text-body-secondary">No side effects recorded.</span>'
        html = f'<div>{healing or "Healing not recorded"} · {satisfaction}</div><div class="small">{effects}</div>'
        if followup.notes:
            html += f'<div class="small">Notes: {linebreaksbr(followup.notes, autoescape=True)}</div>'
        if followup.completed_by_name:
            html += f'<div class="small text-body-secondary">seen by {escape(followup.completed_by_name)}</div>'
        if followup.has_adverse_findings:
            note = escape(ctx.single_note) if str(key) in ctx.single_selected else ""
            html += (
                f'<div class="mt-2"><label class="form-label small mb-1" for="review-note-{key}">Review note '
                "(required: what was done about it)</label>"
                f'<textarea class="form-control form-control-sm" name="note" rows="2" maxlength="2000" required '
                f'form="review-one-{key}" id="review-note-{key}">{note}</textarea>'
                f'<button class="btn btn-sm btn-primary mt-1" type="submit" form="review-one-{key}">Mark reviewed'
                f'<span class="visually-hidden"> {escape(followup.named)}</span></button></div>'
            )
        return html
    if followup.rescheduled_to:
        return f"Rescheduled to {date_filter(followup.rescheduled_to.due_on, 'j M Y')}"
    return (
        '<div class="d-flex gap-1 align-items-center">'
        f'<label class="visually-hidden" for="reschedule-on-{key}">New due date for '
        f"{escape(followup.kind_label.lower())} of {escape(followup.client_name)}</label>"
        f'<input class="form-control form-control-sm" type="date" name="due_on" required value="{ctx.reschedule_on}" '
        f'min="{ctx.today}" form="reschedule-{key}" id="reschedule-on-{key}">'
        f'<button class="btn btn-sm btn-outline-primary" type="submit" form="reschedule-{key}">Reschedule</button>'
        "</div>"
    )


def _row_html(followup: FollowUp, ctx: _RowContext, section: dict) -> str:
    """A row of a follow-up section, written here rather than by a template: a page holds
    65 rows, most of whose cells say one of a few things, and drawing them through the
    template took three quarters of the page's drawing. Every value is escaped; the ids
    are UUIDs and the links made by `Link`."""
    key = followup.public_id
    cells = []
    if section["reviewable"]:
        if followup.has_adverse_findings:
            review = (
                '<span class="badge text-bg-danger" title="Reviewed on its own, with a note">adverse findings</span>'
            )
        else:
            review = (
                f'<input class="form-check-input" type="checkbox" name="followups" value="{key}" form="review-form" '
                f'id="review-{key}"{" checked" if followup.ticked else ""}>'
                f'<input type="hidden" name="{followup.version_key}" value="{followup.lock_version}" '
                'form="review-form">'
                f'<label class="visually-hidden" for="review-{key}">Review {escape(followup.named)}</label>'
            )
        cells.append(f'<td data-label="Review">{review}</td>')
    assignee = (
        escape(followup.assignee_name)
        if followup.assignee_name
        else '<span class="text-body-secondary">Nobody yet</span>'
    )
    badge = {
        "overdue": ' <span class="badge text-bg-danger">overdue</span>',
        "missed": ' <span class="badge text-bg-warning">missed</span>',
    }.get(followup.status_badge, "")
    lateness = escape(followup.lateness)
    if followup.lateness_quiet:
        lateness = f'<span class="text-body-secondary">{lateness}</span>'
    case = followup.case
    cells += [
        f'<td data-label="Client">{escape(followup.client_name)}</td>',
        f'<td data-label="Case"><a href="{followup.case_url}">{escape(case.reference)}</a> '
        f'<span class="small text-body-secondary">{escape(case.get_status_display())}</span></td>',
        f'<td data-label="Follow-up">{escape(followup.kind_label)}</td>',
        f'<td data-label="Due">{escape(followup.due_text)}</td>',
        f'<td data-label="Assigned to">{assignee}</td>',
        f'<td data-label="Status">{escape(followup.status_text)}{badge}</td>',
        f'<td class="num" data-label="Days overdue">{lateness}</td>',
    ]
    if section["reviewable"]:
        cells.append(f'<td data-label="Outcome">{_outcome_html(followup, ctx)}</td>')
    if section["missable"]:
        missed = ""
        if followup.missed_url:
            missed = (
                f'<button class="btn btn-sm btn-outline-danger" type="submit" form="missed-{key}">Mark missed'
                f'<span class="visually-hidden"> {escape(followup.named)}</span></button>'
            )
        cells.append(f"<td>{missed}</td>")
    row_class = f' class="{followup.row_class}"' if followup.row_class else ""
    return f"<tr{row_class}>{''.join(cells)}</tr>"


def _write_rows(sections: list[dict], ctx: _RowContext) -> None:
    """Each row's markup (`_row_html`), with the columns of its section."""
    for section in sections:
        for followup in section["rows"]:
            # Safe: every text escaped in _row_html, the ids UUIDs, the links reversed.
            followup.html = mark_safe(_row_html(followup, ctx, section))  # nosec B308 B703


def _lateness(followup: FollowUp) -> tuple[str, bool]:
    """The "Days overdue" cell: the number of days, or words said quietly (muted)."""
    if followup.status == FollowUpStatus.SCHEDULED:
        if followup.days_overdue:
            return str(followup.days_overdue), False
        if followup.due_in == 0:
            return "due today", True
        return f"in {followup.due_in} day{pluralize(followup.due_in)}", True
    if followup.status == FollowUpStatus.MISSED:
        return str(followup.days_overdue), False
    if followup.days_late:
        return f"done {followup.days_late} day{pluralize(followup.days_late)} late", True
    return "on time", True


def _walks(followups, today: datetime.date) -> list:
    """The follow-ups of each section, in its order: overdue, due soon, and those awaiting
    review as two walks of their index (with adverse findings, then the others)."""
    awaiting = followups.awaiting_review()
    return [
        followups.overdue(today).order_by("due_on", "pk"),
        followups.due_soon(today).order_by("due_on", "pk"),
        awaiting.for_review_with_findings(adverse=True),
        awaiting.for_review_with_findings(adverse=False),
    ]


SECTIONS = [
    (
        "overdue",
        "Overdue",
        "Scheduled follow-ups past their due date, most overdue first.",
        "Nothing is overdue.",
    ),
    (
        "due-soon",
        f"Due in the next {DUE_SOON_DAYS} days",
        f"Scheduled follow-ups due today or in the next {DUE_SOON_DAYS} days, soonest first.",
        f"Nothing is due in the next {DUE_SOON_DAYS} days.",
    ),
    # Two sections, so that a clinic with more adverse findings waiting than a page holds
    # can still review the others together.
    (
        "adverse-findings",
        "Done, with adverse findings",
        "Completed follow-ups with delayed healing, a complication, or a side effect other than the "
        "expected redness, swelling or crusting, no manager has reviewed yet, the oldest first: each is "
        "reviewed on its own, with a note saying what was done about it.",
        "No follow-up with adverse findings waits for review.",
    ),
    (
        "awaiting-review",
        "Done, awaiting review",
        "Completed or missed follow-ups without adverse findings no manager has reviewed yet, the oldest "
        "first: tick them to review them together.",
        "Every completed or missed follow-up without adverse findings has been reviewed.",
    ),
]


def _sections(request, filters: ReviewFilterForm, today: datetime.date, selected: set[str]) -> tuple[dict, list[dict]]:
    """The plans to approve and the four sections of follow-ups, each at the page asked
    for: one query counts them all (up to MAX_ROWS each), then one reads each page, and
    one names the people of every row."""
    user = request.user
    shown = _walks(filters.filter(FollowUp.objects.visible_to(user).for_review()), today)
    counted = _walks(filters.filter(FollowUp.objects.visible_to(user, counting=True)), today)
    plans_count, *counts = capped_counts([waiting_plans(user, counting=True), *counted], MAX_ROWS)
    plans = _paged(request, "plans-to-approve", CappedRows([waiting_plans(user)], [plans_count], MAX_ROWS))
    _describe_plans(plans["rows"])
    links = _RowLinks()
    sections = []
    for (slug, title, help_text, empty), walk, count in zip(SECTIONS, shown, counts, strict=True):
        if slug in REVIEWED:
            # The side effects of the rows come in the same query (`with_choice_rows`).
            walk = with_choice_rows(walk, "side_effects")
        section = _paged(request, slug, CappedRows([walk], [count], MAX_ROWS))
        rows = section["rows"]
        _describe(rows, today, links, selected)
        sections.append(
            {
                **section,
                "title": title,
                "help": help_text,
                "empty": empty,
                "reviewable": slug in REVIEWED,
                # Rows without adverse findings, which the bulk form can review together.
                "bulk_rows": rows if slug == "awaiting-review" else [],
                # Overdue rows can be marked missed in one step; they then wait for review below.
                "missable": slug == "overdue",
            }
        )
    _name_people([row for section in sections for row in section["rows"]])
    return plans, sections


def _reviewed_message(reviewed: list[FollowUp]) -> str:
    if len(reviewed) == 1:
        followup = reviewed[0]
        return (
            f"{followup.get_kind_display()} due {day(followup.due_on)} for {followup.case.client.full_name} "
            "marked as reviewed."
        )
    return f"{len(reviewed)} follow-ups marked as reviewed."


@roles.required(roles.REVIEW_FOLLOW_UPS)
@require_http_methods(["GET", "HEAD", "POST"])
def review_queue(request):
    """The page (GET, the queue filtered by the query string) and its review forms (POST
    to the same URL, so a refused review is shown again with the same filters, the same
    rows ticked and the note kept). The bulk form and each row's own form (a row with an
    adverse finding) post the same fields; `single` says which one was used."""
    today = timezone.localdate()
    audit.saw(request, "review queue")
    filters = ReviewFilterForm(request.GET or None)
    form = ReviewForm(request.POST, user=request.user) if request.method == "POST" else None
    if form is not None and form.is_valid():
        try:
            reviewed = services.followups_review(
                followups=form.cleaned_data["followups"], by=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _reviewed_message(reviewed))
            # Back to the rows reviewed, not the top of a long page.
            section = "adverse-findings" if form.is_single else "awaiting-review"
            return redirect(f"{request.get_full_path()}#{section}")
    single = form is not None and form.is_single
    bulk_form = form if form is not None and not single else ReviewForm(user=request.user)
    plans, sections = _sections(request, filters, today, bulk_form.selected())
    reschedule_on = reschedule_initial()["due_on"]
    _write_rows(
        sections,
        _RowContext(
            today=today.isoformat(),
            reschedule_on=reschedule_on.isoformat(),
            single_selected=form.selected() if single else set(),
            single_note=form.data.get("note", "") if single else "",
        ),
    )
    context = {
        "today": today,
        "filters": filters,
        "plans": plans,
        "sections": sections,
        "form": bulk_form,
        "selected": bulk_form.selected(),
        # A refused one-row review: its errors, its row and its note, shown again in that row.
        "single_form": form if single else None,
        "max_rows": MAX_ROWS,
        "here": request.get_full_path(),
        # The rows whose buttons post a form of their own, kept outside the tables.
        "reschedule_rows": [row for section in sections for row in section["rows"] if row.reschedule_url],
        "missed_rows": [row for section in sections for row in section["rows"] if row.missed_url],
        "adverse_rows": [
            row for section in sections for row in section["rows"] if getattr(row, "has_adverse_findings", False)
        ],
    }
    return render(request, "cases/review/queue.html", context)


def _case_url(case) -> str:
    return reverse("cases:case_detail", kwargs={"case_id": case.public_id}) + "#follow-ups"


@staff_required
@require_http_methods(["GET", "POST"])
def followup_reschedule(request, followup_id):
    """Book a missed follow-up again: one form, the new date prefilled a week ahead.

    Staff as well as managers: booking follow-ups is front-desk work, and the case
    workspace offers it next to every missed follow-up.
    """
    followup = get_follow_up_for_user(request.user, followup_id)
    case = followup.case
    audit.saw(request, "follow-up reschedule", followup, client_id=case.client_id)
    # Read before anything changes: a bad address is ignored, it cannot fail the request after the change.
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    refusal = services.reschedule_refusal(followup)
    if refusal:
        messages.error(request, refusal)
        return redirect(next_url or _case_url(case))
    if request.method == "POST":
        form = RescheduleForm(request.POST, followup=followup)
        if form.is_valid():
            try:
                new = services.followup_reschedule(
                    followup=followup, due_on=form.cleaned_data["due_on"], by=request.user
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"{new.get_kind_display()} for {case.client.full_name} rescheduled to {day(new.due_on)}.",
                )
                return redirect(next_url or _case_url(case))
    else:
        form = RescheduleForm(initial={**reschedule_initial(), "next": next_url or ""}, followup=followup)
    context = {"case": case, "client": case.client, "followup": followup, "form": form}
    return render(request, "cases/review/reschedule.html", context)
