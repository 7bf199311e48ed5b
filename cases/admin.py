"""Admin for the clinic's records: what may be written here, and what is only shown.

Clinical records are read-only in the admin, for every user, superusers included: view,
history, search, filters and, for archivable ones, the "Archive selected" action (who,
when and a typed reason are recorded). Each has rules and an audit that live in the staff
pages' services, which the admin's plain model save would skip:

- clients: the duplicate check, the contraindications behind the laser block, edits
  that cannot undo someone else's (client_update and the client page's locking);
- cases: status moves only along its journey, treatment only on an agreed plan
  (case_change_status); references come from the locked counter (case_open);
- consultations and issues: who held a consultation stays, an issue's dates have happened
  and come in order, edits cannot undo someone else's (consultation_update, issue_update);
- treatment plans and their steps: submission, manager approval, client acceptance,
  revision, and step status and target dates derived from the sessions (plan services);
- laser and correction sessions: consent, the technician's certification on the day,
  the interval between sessions on a zone, contraindications, overrides with a reason,
  no completion in the future (laser_session_save, correction_session_save);
- follow-ups: completion, rescheduling and manager review (follow-up services);
- photos: the upload pipeline (verified image, upright, metadata stripped, its date);
- consents: the signature is evidence, signed through consent_sign; a withdrawal the
  client gave the clinic is recorded with the "Record withdrawal" action, which calls
  consent_withdraw, the service the portal uses;
- rule overrides, portal invitations, sent reminders and the reference counter: logs
  their services write.

Nothing is ever deleted here: no delete permission, no bulk delete action, and no
restore from history (a restore would save an old row past the same rules).

Reference data with no clinical rule stays editable: the order of lookups (zones,
reasons, options, adverse events), consent texts (their words fixed once a client
signed them), laser devices (their laser type and wavelengths fixed once a session
was recorded with them: those sessions' laser type must match their device), clinic
settings, studios and artists. Certifications: see artists/admin.py.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from cases.models import (
    AccessEvent,
    AdverseEventKind,
    Booking,
    CalendarFeed,
    Case,
    Client,
    Consent,
    ConsentText,
    Consultation,
    CorrectionOption,
    CorrectionSession,
    FollowUp,
    Issue,
    LaserDevice,
    LaserSession,
    Photo,
    PlanStep,
    PortalInvitation,
    ReferenceCounter,
    RegretReason,
    RuleOverride,
    SentReminder,
    TreatmentPlan,
    ZoneLookup,
)
from cases.models.plans import KD_FIELDS
from cases.models.sessions import LASER_PARAMETERS
from cases.services import diary
from cases.services.clients import CONTRAINDICATION_FIELDS
from cases.services.consents import consent_withdraw
from cases.services.plans import plan_steps_follow_sessions
from smpclinic.admin import (
    ArchivableAdminMixin,
    AuditLogAdmin,
    ClinicalAdmin,
    ClinicalAdminMixin,
    ClinicalRecordAdmin,
    LookupAdmin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    ReasonActionForm,
    typed_reason,
)

for lookup in (ZoneLookup, RegretReason, CorrectionOption, AdverseEventKind):
    admin.site.register(lookup, LookupAdmin)

# Searches on records of a case: its reference exactly, or the start of the client's name.
CASE_SEARCH = ["=case__reference", "^case__client__last_name", "^case__client__first_name"]


@admin.register(ReferenceCounter)
class ReferenceCounterAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written only by next_reference() under a row lock; an edit here could reuse a reference."""

    list_display = ["year", "last_number"]


class ClientColumnMixin:
    """`client` column for records that hang off a case (select case__client in the list)."""

    @admin.display(ordering="case__client__last_name")
    def client(self, obj) -> Client:
        return obj.case.client


# Clients


class CaseOfClientInline(ReadOnlyInline):
    model = Case
    fields = ["reference", "status", "opened_on", "lead_artist", "closed_on"]
    select_related = ("lead_artist",)


class ConsentOfClientInline(ReadOnlyInline):
    model = Consent
    fields = ["text", "signed_name", "signed_at", "signed_in_clinic", "withdrawn_at"]
    select_related = ("text",)


@admin.register(Client)
class ClientAdmin(ArchivableAdminMixin, ClinicalRecordAdmin):
    def after_archive(self, records: list) -> None:
        diary.free_upcoming(Booking.objects.filter(case__client__in=records), reason="The client was archived.")

    list_display = [
        "name",
        "date_of_birth",
        "email",
        "phone",
        "fitzpatrick_type",
        "norwood_stage",
        "has_portal_login",
        "created_at",
    ]
    list_filter = [
        "fitzpatrick_type",
        "norwood_stage",
        "reminders_opt_in",
        "pregnant_or_breastfeeding",
        "active_infection",
        "keloid_history",
    ]
    list_select_related = []  # no relation is shown; portal login is read from user_id
    # Indexed columns only, matched from the start: with 100,000 clients a "contains"
    # search over every text column reads the whole table. Case references: see below.
    search_fields = ["^last_name", "^first_name", "^email"]
    inlines = [CaseOfClientInline, ConsentOfClientInline]
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "preferred_name", "date_of_birth"]}),
        ("Contact", {"fields": ["email", "phone", "address", "reminders_opt_in", "user"]}),
        ("Skin and hair", {"fields": ["fitzpatrick_type", "norwood_stage"]}),
        (
            "Contraindications for laser work",
            {"fields": [*CONTRAINDICATION_FIELDS, "allergies", "medications"]},
        ),
        ("Internal", {"fields": ["internal_notes"]}),
    ]

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        reference = search_term.strip().upper()  # references are stored upper-case
        if reference:
            # A case reference finds its client. Looked up first, on the unique index, so
            # the search stays a plain OR of column conditions: "=cases__reference" would
            # join cases, and Django then adds DISTINCT to every search of the table.
            client_ids = list(Case.objects.filter(reference=reference).values_list("client_id", flat=True))
            if client_ids:
                results |= queryset.filter(pk__in=client_ids)
        return results, may_have_duplicates

    @admin.display(ordering="last_name")
    def name(self, obj: Client) -> str:
        return f"{obj.last_name}, {obj.first_name}"

    @admin.display(description="portal", boolean=True)
    def has_portal_login(self, obj: Client) -> bool:
        return obj.user_id is not None


# Cases and what hangs off them


class IssueInline(ReadOnlyInline):
    model = Issue
    fields = ["kind", "zone", "severity", "identified_on", "resolved_on"]


class ConsultationInline(ReadOnlyInline):
    model = Consultation
    fields = ["held_at", "kind", "staff"]
    select_related = ("staff",)


class TreatmentPlanInline(ReadOnlyInline):
    model = TreatmentPlan
    fields = ["version", "status", "kd_total", "price_estimate", "approved_at", "accepted_at"]
    select_related = ("case",)  # the row's title is "<reference> plan v<n>"


class LaserSessionInline(ReadOnlyInline):
    model = LaserSession
    fields = ["scheduled_at", "status", "technician", "device", "wavelength_nm", "fluence_j_cm2", "passes"]
    select_related = ("technician", "device")


class CorrectionSessionInline(ReadOnlyInline):
    model = CorrectionSession
    fields = ["scheduled_at", "status", "kind", "artist"]
    select_related = ("artist",)


class FollowUpInline(ReadOnlyInline):
    model = FollowUp
    fields = ["due_on", "kind", "assignee", "status", "completed_on", "reviewed_at"]
    select_related = ("assignee",)


@admin.register(Case)
class CaseAdmin(ArchivableAdminMixin, ClinicalRecordAdmin):
    def after_archive(self, records: list) -> None:
        diary.free_upcoming(Booking.objects.filter(case__in=records), reason="The case was archived.")

    list_display = ["reference", "client", "status", "opened_on", "lead_artist", "closed_on", "outcome"]
    # No date_hierarchy: its DISTINCT over every case's date costs more than the rest of the page
    # together with 100,000 cases; the date filter's choices are fixed and cost no query.
    list_filter = ["status", "opened_on", "outcome", "lead_artist", "regret_reasons"]
    list_select_related = ["client", "lead_artist"]
    search_fields = ["^client__last_name", "^client__first_name"]
    inlines = [
        IssueInline,
        ConsultationInline,
        TreatmentPlanInline,
        LaserSessionInline,
        CorrectionSessionInline,
        FollowUpInline,
    ]
    fieldsets = [
        (None, {"fields": ["reference", "client", "status", "opened_on", "closed_on", "lead_artist"]}),
        ("Why the client came", {"fields": ["goal", "regret_reasons", "regret_notes"]}),
        (
            "Original SMP",
            {
                "fields": [
                    "original_studio",
                    "original_artist",
                    "original_date",
                    "original_sessions",
                    "original_pigment",
                ]
            },
        ),
        (
            "Realistic expectations",
            {"fields": ["expectations_discussed_on", "expectations_discussed_by", "expectations_agreed"]},
        ),
        ("Closing", {"fields": ["outcome", "outcome_notes", "satisfaction", "withdrawn_reason"]}),
        ("Internal", {"fields": ["internal_notes"]}),
    ]

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            # References are stored upper-case; an exact match uses their unique index.
            results |= queryset.filter(reference=search_term.strip().upper())
        return results, may_have_duplicates


@admin.register(Consultation)
class ConsultationAdmin(ClientColumnMixin, ArchivableAdminMixin, ClinicalRecordAdmin):
    list_display = ["held_at", "kind", "case", "client", "staff"]
    list_filter = ["kind"]
    list_select_related = ["case__client", "staff"]
    search_fields = CASE_SEARCH
    date_hierarchy = "held_at"


@admin.register(Issue)
class IssueAdmin(ClientColumnMixin, ArchivableAdminMixin, ClinicalRecordAdmin):
    list_display = ["__str__", "case", "client", "severity", "identified_on", "resolved_on"]
    list_filter = ["kind", "zone", "severity", ("resolved_on", admin.EmptyFieldListFilter)]
    list_select_related = ["case__client"]
    search_fields = CASE_SEARCH


# Treatment plans


class PlanStepInline(ReadOnlyInline):
    model = PlanStep
    fields = ["order", "kind", "description", "zones", "interval_weeks", "target_date", "status"]
    prefetch_related = ("zones",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(*self.prefetch_related)


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(ClientColumnMixin, ArchivableAdminMixin, ClinicalRecordAdmin):
    list_display = ["__str__", "client", "status", "kd_total", "price_estimate", "approved_at", "accepted_at"]
    list_filter = ["status", "options"]
    list_select_related = ["case__client"]
    search_fields = CASE_SEARCH
    inlines = [PlanStepInline]
    fieldsets = [
        (None, {"fields": ["case", "version", "previous_version", "revision_reason", "status", "options"]}),
        ("For the client", {"fields": ["summary", "aftercare", "price_estimate"]}),
        ("Estimates", {"fields": [*KD_FIELDS, "kd_total", "clinician_estimate_sessions"]}),
        ("Manager approval", {"fields": ["submitted_at", "submitted_by", "approved_at", "approved_by", "review_note"]}),
        (
            "Client acceptance",
            {
                "fields": [
                    "accepted_at",
                    "accepted_name",
                    "accepted_by",
                    "accepted_in_clinic",
                    "accepted_ip",
                    "accepted_user_agent",
                ]
            },
        ),
        ("Internal", {"fields": ["internal_notes"]}),
    ]


@admin.register(PlanStep)
class PlanStepAdmin(ClinicalRecordAdmin):
    list_display = ["__str__", "plan", "target_date", "interval_weeks", "status"]
    list_filter = ["kind", "status"]
    list_select_related = ["plan__case"]
    search_fields = ["=plan__case__reference", "description"]


# Sessions


class SessionAdmin(ClientColumnMixin, ArchivableAdminMixin, ClinicalRecordAdmin):
    """What laser and correction session admins share."""

    list_filter = ["status"]
    search_fields = CASE_SEARCH
    date_hierarchy = "scheduled_at"
    session_fields = ["case", "plan_step", "scheduled_at", "status", "zones"]
    aftercare_fieldset = (
        "Aftercare and notes",
        {"fields": ["pain_score", "aftercare_given", "aftercare_notes", "notes_for_client", "internal_notes"]},
    )

    def after_archive(self, records: list) -> None:
        # A plan step is done by its non-archived completed sessions: an archived one no longer counts.
        plan_steps_follow_sessions(step_ids=[session.plan_step_id for session in records])
        link = "laser_session__in" if self.model is LaserSession else "correction_session__in"
        diary.free_upcoming(Booking.objects.filter(**{link: records}), reason="The session was archived.")


@admin.register(LaserDevice)
class LaserDeviceAdmin(ArchivableAdminMixin, ClinicalAdmin):
    """Reference data. Its laser type and wavelengths are fixed once a session was recorded
    with the device: a recorded session's laser type and wavelength must match its device,
    so a device that changes is a new device (archive the old one with a reason)."""

    list_display = ["name", "laser_type", "manufacturer", "model_name", "serial_number", "last_serviced_on"]
    list_filter = ["laser_type"]
    search_fields = ["name", "manufacturer", "serial_number"]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and obj.sessions.exists():
            readonly = (*readonly, "laser_type", "wavelengths")
        return readonly


@admin.register(LaserSession)
class LaserSessionAdmin(SessionAdmin):
    list_display = [
        "scheduled_at",
        "case",
        "client",
        "technician",
        "device",
        "wavelength_nm",
        "fluence_j_cm2",
        "status",
    ]
    list_filter = [*SessionAdmin.list_filter, "laser_type", "test_spot", "device", "adverse_events"]
    list_select_related = ["case__client", "technician", "device"]
    fieldsets = [
        (None, {"fields": [*SessionAdmin.session_fields, "technician", "device"]}),
        (
            "Parameters",
            {"fields": [*LASER_PARAMETERS, "test_spot", "parameters_shared"]},
        ),
        (
            "Response",
            {"fields": ["immediate_response", "estimated_clearance_pct", "adverse_events", "adverse_event_notes"]},
        ),
        SessionAdmin.aftercare_fieldset,
    ]


@admin.register(CorrectionSession)
class CorrectionSessionAdmin(SessionAdmin):
    list_display = ["scheduled_at", "kind", "case", "client", "artist", "status"]
    list_filter = [*SessionAdmin.list_filter, "kind"]
    list_select_related = ["case__client", "artist"]
    fieldsets = [
        (None, {"fields": [*SessionAdmin.session_fields, "kind", "artist"]}),
        ("Work", {"fields": ["pigment", "needle", "saline_solution", "duration_minutes"]}),
        SessionAdmin.aftercare_fieldset,
    ]


@admin.register(RuleOverride)
class RuleOverrideAdmin(ReadOnlyAdminMixin, ClinicalAdmin):
    """An audit record of a safety warning someone overrode: read, never changed."""

    list_display = ["created_at", "rule", "case", "overridden_by", "laser_session", "correction_session"]
    list_filter = ["rule"]
    list_select_related = ["case", "overridden_by", "laser_session", "correction_session"]
    search_fields = ["=case__reference"]
    date_hierarchy = "created_at"


# Follow-ups and photos


@admin.register(FollowUp)
class FollowUpAdmin(ClientColumnMixin, ArchivableAdminMixin, ClinicalRecordAdmin):
    def after_archive(self, records: list) -> None:
        diary.free_upcoming(Booking.objects.filter(follow_up__in=records), reason="The follow-up was archived.")

    list_display = ["due_on", "kind", "case", "client", "assignee", "status", "healing", "reviewed_at"]
    list_filter = ["status", "kind", "healing", ("reviewed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["case__client", "assignee"]
    search_fields = CASE_SEARCH
    readonly_fields = ["rescheduled_from", "reviewed_at", "reviewed_by", "review_note"]
    date_hierarchy = "due_on"


@admin.register(Booking)
class BookingAdmin(ClientColumnMixin, ClinicalRecordAdmin):
    """The diary's slots: booked, moved and cancelled on the diary pages, whose service
    checks overlaps and opening hours; read-only here."""

    list_display = ["starts_at", "ends_at", "kind", "case", "client", "person", "room", "device", "status"]
    list_filter = ["status", "kind", "room"]
    list_select_related = ["case__client", "person", "room", "device"]
    search_fields = CASE_SEARCH
    date_hierarchy = "starts_at"


@admin.register(Photo)
class PhotoAdmin(ClientColumnMixin, ArchivableAdminMixin, ClinicalRecordAdmin):
    list_display = ["taken_on", "kind", "angle", "zone", "case", "client", "shared_with_client"]
    list_filter = ["kind", "angle", "zone", "shared_with_client"]
    list_select_related = ["case__client"]
    search_fields = CASE_SEARCH
    # The file itself is not linked: photos are private and MEDIA_URL is never served.
    readonly_fields = ["case", "width", "height", "byte_size", "sha256", "uploaded_by"]
    date_hierarchy = "taken_on"


# Consents


@admin.register(ConsentText)
class ConsentTextAdmin(ClinicalAdmin):
    list_display = ["title", "kind", "version", "effective_from", "retired_on"]
    list_filter = ["kind"]
    search_fields = ["title"]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and obj.consents.exists():
            # Clients signed these exact words; a change is a new version.
            readonly = (*readonly, "kind", "version", "title", "body")
        return readonly


class WithdrawalActionForm(ReasonActionForm):
    reason = forms.CharField(label="Reason, if the client gave one:", required=False)


@admin.register(Consent)
class ConsentAdmin(ClinicalRecordAdmin):
    """Signed consents are evidence: shown, never edited. A withdrawal the client gave the
    clinic is recorded with the "Record withdrawal" action, through consent_withdraw."""

    list_display = ["signed_name", "client", "text", "signed_at", "signed_in_clinic", "withdrawn_at"]
    list_filter = ["text__kind", "signed_in_clinic", ("withdrawn_at", admin.EmptyFieldListFilter)]
    list_select_related = ["client", "text"]
    search_fields = ["^client__last_name", "^client__first_name", "^signed_name"]
    date_hierarchy = "signed_at"
    actions = ["record_withdrawal"]
    action_form = WithdrawalActionForm

    def has_withdraw_permission(self, request) -> bool:
        return request.user.has_perm("cases.change_consent")

    @admin.action(description="Record withdrawal of selected consents", permissions=["withdraw"])
    def record_withdrawal(self, request, queryset):
        withdrawn = 0
        # Each through the service (its own transaction); one it refuses (already withdrawn)
        # is reported and does not stop the others.
        for consent in queryset.select_related("client", "text").order_by("pk"):
            try:
                consent_withdraw(consent=consent, by=request.user, reason=typed_reason(request))
            except ValidationError as error:
                self.message_user(
                    request, f"{consent.client}, {consent.text}: {' '.join(error.messages)}", messages.ERROR
                )
            else:
                withdrawn += 1
        if withdrawn:
            noun = "consent" if withdrawn == 1 else "consents"
            self.message_user(request, f"Recorded the withdrawal of {withdrawn} {noun}.", messages.SUCCESS)


# Portal invitations and reminders: logs written by their services, read here.


class ReadOnlyLogAdmin(ReadOnlyAdminMixin, ClinicalAdminMixin, admin.ModelAdmin):
    pass


@admin.register(PortalInvitation)
class PortalInvitationAdmin(ReadOnlyLogAdmin):
    """Sent from the client page (a new one revokes the old); only the token's hash is kept."""

    list_display = ["created_at", "client", "sent_to", "created_by", "expires_at", "used_at", "revoked_at"]
    list_filter = [("used_at", admin.EmptyFieldListFilter), ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["client", "created_by"]
    search_fields = ["client__last_name", "sent_to"]
    exclude = ["token_hash"]
    date_hierarchy = "created_at"


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyLogAdmin):
    """Private calendar addresses; the token is the key to them, so it is not shown here.
    Revoked from the portal (clients) or the diary (staff)."""

    list_display = ["created_at", "client", "person", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["client", "person"]
    exclude = ["token"]
    date_hierarchy = "created_at"


@admin.register(SentReminder)
class SentReminderAdmin(ReadOnlyLogAdmin):
    """What the reminder job sent; the unique key is what stops a second send."""

    list_display = ["claimed_at", "kind", "recipient", "client", "subject", "sent_at"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter)]
    list_select_related = ["client"]
    search_fields = ["recipient", "key"]
    date_hierarchy = "claimed_at"


@admin.register(AccessEvent)
class AccessEventAdmin(AuditLogAdmin):
    list_display = ["at", "action", "what", "object_id", "user", "client", "status", "ip"]
    list_filter = ["action"]
    search_fields = ["object_id", "path", "ip"]
    list_select_related = ["user", "client"]
    raw_id_fields = ["user", "client"]
