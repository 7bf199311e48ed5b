"""Admin for clinical records: archived, never deleted; history on every change."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from cases.choices import PlanStatus
from cases.models import (
    AdverseEventKind,
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
from cases.services import next_reference
from cases.services.clients import CONTRAINDICATION_FIELDS
from smpclinic.admin import (
    ArchivableAdminMixin,
    ClinicalAdmin,
    ClinicalAdminMixin,
    ClinicalInline,
    LookupAdmin,
    ReadOnlyInline,
)

for lookup in (ZoneLookup, RegretReason, CorrectionOption, AdverseEventKind):
    admin.site.register(lookup, LookupAdmin)

# Searches on records of a case: its reference exactly, or the start of the client's name.
CASE_SEARCH = ["=case__reference", "^case__client__last_name", "^case__client__first_name"]


@admin.register(ReferenceCounter)
class ReferenceCounterAdmin(admin.ModelAdmin):
    """Written only by next_reference() under a row lock; an edit here could reuse a reference."""

    list_display = ["year", "last_number"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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
class ClientAdmin(ArchivableAdminMixin, ClinicalAdmin):
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
    autocomplete_fields = ["user"]
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


class IssueInline(ClinicalInline):
    model = Issue
    fields = ["kind", "zone", "severity", "identified_on", "resolved_on"]


class ConsultationInline(ClinicalInline):
    model = Consultation
    fields = ["held_at", "kind", "staff"]
    autocomplete_fields = ["staff"]
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


class FollowUpInline(ClinicalInline):
    model = FollowUp
    # status and completed_on together, so "completed needs a date" is checked in the form.
    fields = ["due_on", "kind", "assignee", "status", "completed_on", "reviewed_at"]
    readonly_fields = ["reviewed_at"]
    autocomplete_fields = ["assignee"]
    select_related = ("assignee",)


@admin.register(Case)
class CaseAdmin(ArchivableAdminMixin, ClinicalAdmin):
    list_display = ["reference", "client", "status", "opened_on", "lead_artist", "closed_on", "outcome"]
    # No date_hierarchy: its DISTINCT over every case's date costs more than the rest of the page
    # together with 100,000 cases; the date filter's choices are fixed and cost no query.
    list_filter = ["status", "opened_on", "outcome", "lead_artist", "regret_reasons"]
    list_select_related = ["client", "lead_artist"]
    search_fields = ["^client__last_name", "^client__first_name"]
    autocomplete_fields = ["client", "lead_artist", "original_studio", "original_artist", "expectations_discussed_by"]
    readonly_fields = ["reference"]
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

    def save_model(self, request, obj: Case, form, change: bool) -> None:
        if not change:
            # As case_open() does: the next number of the opening year, from the locked counter.
            obj.reference = next_reference(year=obj.opened_on.year)
        super().save_model(request, obj, form, change)


@admin.register(Consultation)
class ConsultationAdmin(ClientColumnMixin, ArchivableAdminMixin, ClinicalAdmin):
    list_display = ["held_at", "kind", "case", "client", "staff"]
    list_filter = ["kind"]
    list_select_related = ["case__client", "staff"]
    search_fields = CASE_SEARCH
    autocomplete_fields = ["case", "staff"]
    date_hierarchy = "held_at"


@admin.register(Issue)
class IssueAdmin(ClientColumnMixin, ArchivableAdminMixin, ClinicalAdmin):
    list_display = ["__str__", "case", "client", "severity", "identified_on", "resolved_on"]
    list_filter = ["kind", "zone", "severity", ("resolved_on", admin.EmptyFieldListFilter)]
    list_select_related = ["case__client"]
    search_fields = CASE_SEARCH
    autocomplete_fields = ["case"]


# Treatment plans


class PlanStepInline(ClinicalInline):
    model = PlanStep
    fields = ["order", "kind", "description", "zones", "interval_weeks", "target_date", "status"]


class TreatmentPlanAdminForm(forms.ModelForm):
    """Checks the plan constraints that involve fields this form cannot show.

    Django skips a check constraint when a field it names is not in the form; the
    database would then refuse the row with an error page instead of a message.
    """

    def clean(self):
        cleaned = super().clean()
        given = [cleaned.get(name) is not None for name in KD_FIELDS]
        if any(given) and not all(given):
            raise ValidationError("Give all six Kirby–Desai sub-scores, or none.")
        if cleaned.get("status") in PlanStatus.agreed() and not (
            self.instance.approved_at and self.instance.accepted_at
        ):
            self.add_error("status", "A plan is accepted only after manager approval and client acceptance.")
        return cleaned


# Set only by plan_accept (in the clinic or the portal); shown, never edited here.
ACCEPTANCE_FIELDS = [
    "accepted_at",
    "accepted_name",
    "accepted_by",
    "accepted_in_clinic",
    "accepted_ip",
    "accepted_user_agent",
]


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(ClientColumnMixin, ArchivableAdminMixin, ClinicalAdmin):
    form = TreatmentPlanAdminForm
    list_display = ["__str__", "client", "status", "kd_total", "price_estimate", "approved_at", "accepted_at"]
    list_filter = ["status", "options"]
    list_select_related = ["case__client"]
    search_fields = CASE_SEARCH
    readonly_fields = [
        "case",
        "version",
        "previous_version",
        "kd_total",
        "submitted_at",
        "submitted_by",
        "approved_at",
        "approved_by",
        "review_note",
        *ACCEPTANCE_FIELDS,
    ]
    inlines = [PlanStepInline]
    fieldsets = [
        (None, {"fields": ["case", "version", "previous_version", "status", "options", "price_estimate"]}),
        ("For the client", {"fields": ["summary", "aftercare"]}),
        ("Kirby–Desai estimate", {"fields": [*KD_FIELDS, "kd_total"]}),
        ("Manager approval", {"fields": ["submitted_at", "submitted_by", "approved_at", "approved_by", "review_note"]}),
        ("Client acceptance", {"fields": ACCEPTANCE_FIELDS}),
        ("Internal", {"fields": ["internal_notes"]}),
    ]

    def has_add_permission(self, request) -> bool:
        # Versions, revisions and approval are kept consistent by the plan workflow in the app.
        return False


@admin.register(PlanStep)
class PlanStepAdmin(ClinicalAdmin):
    list_display = ["__str__", "plan", "target_date", "interval_weeks", "status"]
    list_filter = ["kind", "status"]
    list_select_related = ["plan__case"]
    search_fields = ["=plan__case__reference", "description"]
    autocomplete_fields = ["plan"]


# Sessions


class SessionAdmin(ClientColumnMixin, ArchivableAdminMixin, ClinicalAdmin):
    """What laser and correction session admins share."""

    list_filter = ["status"]
    search_fields = CASE_SEARCH
    date_hierarchy = "scheduled_at"
    session_fields = ["case", "plan_step", "scheduled_at", "status", "zones"]
    aftercare_fieldset = (
        "Aftercare and notes",
        {"fields": ["pain_score", "aftercare_given", "aftercare_notes", "notes_for_client", "internal_notes"]},
    )


@admin.register(LaserDevice)
class LaserDeviceAdmin(ArchivableAdminMixin, ClinicalAdmin):
    list_display = ["name", "laser_type", "manufacturer", "model_name", "serial_number", "last_serviced_on"]
    list_filter = ["laser_type"]
    search_fields = ["name", "manufacturer", "serial_number"]


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
    autocomplete_fields = ["case", "plan_step", "technician", "device"]
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
    autocomplete_fields = ["case", "plan_step", "artist"]
    fieldsets = [
        (None, {"fields": [*SessionAdmin.session_fields, "kind", "artist"]}),
        ("Work", {"fields": ["pigment", "needle", "saline_solution", "duration_minutes"]}),
        SessionAdmin.aftercare_fieldset,
    ]


@admin.register(RuleOverride)
class RuleOverrideAdmin(ClinicalAdminMixin, admin.ModelAdmin):
    """An audit record of a safety warning someone overrode: read, never changed."""

    list_display = ["created_at", "rule", "case", "overridden_by", "laser_session", "correction_session"]
    list_filter = ["rule"]
    list_select_related = ["case", "overridden_by", "laser_session", "correction_session"]
    search_fields = ["=case__reference"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# Follow-ups and photos


@admin.register(FollowUp)
class FollowUpAdmin(ClientColumnMixin, ArchivableAdminMixin, ClinicalAdmin):
    list_display = ["due_on", "kind", "case", "client", "assignee", "status", "healing", "reviewed_at"]
    list_filter = ["status", "kind", "healing", ("reviewed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["case__client", "assignee"]
    search_fields = CASE_SEARCH
    autocomplete_fields = ["case", "laser_session", "correction_session", "assignee", "completed_by"]
    readonly_fields = ["rescheduled_from", "reviewed_at", "reviewed_by", "review_note"]
    date_hierarchy = "due_on"


@admin.register(Photo)
class PhotoAdmin(ClientColumnMixin, ArchivableAdminMixin, ClinicalAdmin):
    list_display = ["taken_on", "kind", "angle", "zone", "case", "client", "shared_with_client"]
    list_filter = ["kind", "angle", "zone", "shared_with_client"]
    list_select_related = ["case__client"]
    search_fields = CASE_SEARCH
    autocomplete_fields = ["issue", "laser_session", "correction_session", "follow_up"]
    # The file itself is not linked: photos are private and MEDIA_URL is never served.
    readonly_fields = ["case", "width", "height", "byte_size", "sha256", "uploaded_by"]
    date_hierarchy = "taken_on"

    def has_add_permission(self, request) -> bool:
        # Uploads go through the app's pipeline, which verifies the image and strips its metadata.
        return False


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


class ConsentAdminForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        # signed_at is read-only once signed, so Django does not check this constraint itself.
        signed_at = cleaned.get("signed_at", self.instance.signed_at)
        withdrawn_at = cleaned.get("withdrawn_at")
        if withdrawn_at and signed_at and withdrawn_at < signed_at:
            self.add_error("withdrawn_at", "A consent cannot be withdrawn before it was signed.")
        return cleaned


@admin.register(Consent)
class ConsentAdmin(ClinicalAdmin):
    form = ConsentAdminForm
    list_display = ["signed_name", "client", "text", "signed_at", "signed_in_clinic", "withdrawn_at"]
    list_filter = ["text__kind", "signed_in_clinic", ("withdrawn_at", admin.EmptyFieldListFilter)]
    list_select_related = ["client", "text"]
    search_fields = ["^client__last_name", "^client__first_name", "^signed_name"]
    autocomplete_fields = ["client", "text", "witnessed_by"]
    date_hierarchy = "signed_at"
    signature_fields = [
        "client",
        "text",
        "signed_name",
        "signed_at",
        "signed_ip",
        "signed_user_agent",
        "signed_in_clinic",
        "witnessed_by",
    ]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None:
            # The signature is evidence; only a withdrawal is recorded afterwards.
            readonly = (*readonly, *self.signature_fields)
        return readonly


# Portal invitations and reminders: logs written by their services, read here.


class ReadOnlyLogAdmin(ClinicalAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PortalInvitation)
class PortalInvitationAdmin(ReadOnlyLogAdmin):
    """Sent from the client page (a new one revokes the old); only the token's hash is kept."""

    list_display = ["created_at", "client", "sent_to", "created_by", "expires_at", "used_at", "revoked_at"]
    list_filter = [("used_at", admin.EmptyFieldListFilter), ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["client", "created_by"]
    search_fields = ["client__last_name", "sent_to"]
    exclude = ["token_hash"]
    date_hierarchy = "created_at"


@admin.register(SentReminder)
class SentReminderAdmin(ReadOnlyLogAdmin):
    """What the reminder job sent; the unique key is what stops a second send."""

    list_display = ["claimed_at", "kind", "recipient", "client", "subject", "sent_at"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter)]
    list_select_related = ["client"]
    search_fields = ["recipient", "key"]
    date_hierarchy = "claimed_at"
