"""What every clinical admin shares (archive, never delete; history; audit fields), and the settings record.

Clinical records are read-only here, for superusers too (`ReadOnlyAdminMixin`): their rules
and their audit live in the staff pages' services. See the top of cases/admin.py for which
models are read-only and why.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import IS_FACETS_VAR, IS_POPUP_VAR, ORDER_VAR, PAGE_VAR, TO_FIELD_VAR
from django.core.exceptions import PermissionDenied
from django.db import transaction
from simple_history.admin import SimpleHistoryAdmin

from smpclinic.models import Archivable, ChoiceLookup, ClinicSettings, Closure, LoginEvent, OpeningHours, Room
from smpclinic.paginators import ACTIVE_ROWS, WHOLE_TABLE, EstimatedCountPaginator

# Written by the app (or by Django), never typed into a form; shown read-only where present.
AUDIT_FIELDS = ("public_id", "created_at", "updated_at")
ARCHIVE_FIELDS = ("archived_at", "archived_by", "archive_reason")


class ArchivedListFilter(admin.SimpleListFilter):
    """Active records by default, like the rest of the app; archived ones on request."""

    title = "archived"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("yes", "Archived"), ("all", "All")]

    def choices(self, changelist):
        # Django's first choice is "All" for "no parameter"; here no parameter means active.
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Active",
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return queryset.filter(archived_at__isnull=self.value() != "yes")


class EstimatedCountAdminMixin:
    """A changelist over a table that grows with the clinic: its page count comes from
    PostgreSQL's statistics while it lists the whole table or its active rows (see
    EstimatedCountPaginator), an exact count once a search or a filter narrows it. No
    "Show all" total either, which would count the table after all."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        rows = self.listed_rows(request)
        return self.paginator(queryset, per_page, orphans, allow_empty_first_page, rows=rows)

    def listed_rows(self, request) -> str | None:
        """Which list the request asks for: WHOLE_TABLE, ACTIVE_ROWS or None (narrowed)."""
        asked = set(request.GET) - {PAGE_VAR, ORDER_VAR, IS_FACETS_VAR, IS_POPUP_VAR, TO_FIELD_VAR}
        if not issubclass(self.model, Archivable):
            return None if asked else WHOLE_TABLE
        if asked - {ArchivedListFilter.parameter_name}:
            return None
        # No parameter is the "Active" choice; "all" is the whole table; "yes" is narrowed.
        return {None: ACTIVE_ROWS, "all": WHOLE_TABLE}.get(request.GET.get(ArchivedListFilter.parameter_name))


class ReasonActionForm(helpers.ActionForm):
    """The changelist's action bar with a box for the reason the action records."""

    reason = forms.CharField(label="Reason:", required=False, max_length=500)


def typed_reason(request) -> str:
    """The reason typed next to the action, stripped."""
    return request.POST.get("reason", "").strip()


class ArchivableAdminMixin:
    """Archive instead of delete: an "Archive selected" action (who, when and the reason typed
    next to it are recorded) and an "Archived" filter.

    Put it before ClinicalAdmin (or any ModelAdmin) for a model built on Archivable.
    """

    actions = ["archive_selected"]
    action_form = ReasonActionForm

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_archive_permission(self, request) -> bool:
        return request.user.has_perm("cases.archive_record")

    def get_list_filter(self, request):
        return (ArchivedListFilter, *super().get_list_filter(request))

    def after_archive(self, records: list) -> None:
        """What follows from archiving `records`, in the same transaction (nothing by default)."""

    @admin.action(description="Archive selected %(verbose_name_plural)s", permissions=["archive"])
    def archive_selected(self, request, queryset):
        reason = typed_reason(request)
        limit = self.model._meta.get_field("archive_reason").max_length
        if not reason or len(reason) > limit:
            problem = (
                "type the reason in the box next to the action"
                if not reason
                else f"keep the reason under {limit} characters"
            )
            self.message_user(request, f"Nothing was archived: {problem}.", messages.ERROR)
            return
        with transaction.atomic():
            # The selected rows locked and read again (no list joins), then one save per
            # record rather than one UPDATE, so each archiving enters its history.
            records = list(
                self.model._default_manager.select_for_update()
                .filter(pk__in=queryset.values("pk"), archived_at__isnull=True)
                .order_by("pk")
            )
            for record in records:
                record.archive(by=request.user, reason=reason)
            self.after_archive(records)
        opts = self.model._meta
        name = opts.verbose_name if len(records) == 1 else opts.verbose_name_plural
        self.message_user(request, f"Archived {len(records)} {name}.", messages.SUCCESS)


class LookupCheckboxesMixin:
    """Lookups are short fixed lists (zones, reasons…): checkboxes read better than a multi-select."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if issubclass(db_field.related_model, ChoiceLookup):
            kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ClinicalAdminMixin(EstimatedCountAdminMixin, LookupCheckboxesMixin):
    """Clinical records: never deleted, audit fields read-only, no whole-table counts."""

    # Every clinical table grows with the number of clients: no whole-table count, and no
    # "Show counts" link, whose facet counts run one COUNT per filter choice.
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *record_fields(self.model))

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.fieldsets:
            # Declared fieldsets hold the clinical fields; the audit trail goes last, folded.
            fieldsets = [*fieldsets, ("Record", {"classes": ["collapse"], "fields": record_fields(self.model)})]
        return fieldsets


class ClinicalAdmin(ClinicalAdminMixin, SimpleHistoryAdmin):
    """Base for models with `history`; Archivable ones put ArchivableAdminMixin before it.

    Old versions are shown, never restored: a restore saves the whole old row past the
    change form, its read-only fields and the services' rules.
    """

    def revert_disabled(self, request, obj=None) -> bool:
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyAdminMixin:
    """A record whose writes have rules and an audit of their own (in the staff pages'
    services): shown with its history, searchable and filterable, never added, changed or
    deleted here, whoever is logged in (a superuser too). Archiving, where the model has
    it, stays (ArchivableAdminMixin).
    """

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        # Every field shown is read-only, whatever else asks for a form (the history pages):
        # the record's own fields in model order, then the declared ones and the audit trail.
        declared = tuple(super().get_readonly_fields(request, obj))
        left_out = {*(self.get_exclude(request, obj) or ()), *record_fields(self.model)}
        names = [
            field.name
            for field in self.model._meta.get_fields()
            if (field.concrete or field.many_to_many)
            and not field.auto_created
            and (field.editable or field.name in declared)
            and field.name not in left_out
        ]
        return tuple(dict.fromkeys([*names, *declared]))


class ClinicalRecordAdmin(ReadOnlyAdminMixin, ClinicalAdmin):
    """A clinical record with history: read-only here (see ReadOnlyAdminMixin)."""


class ClinicalInline(LookupCheckboxesMixin, admin.TabularInline):
    """A parent's clinical records as a table: none deleted, archived ones left to their own list."""

    extra = 0
    show_change_link = True
    select_related: tuple[str, ...] = ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related(*self.select_related)
        if issubclass(self.model, Archivable):
            queryset = queryset.filter(archived_at__isnull=True)
        return queryset


class ReadOnlyInline(ClinicalInline):
    """Records with rules of their own (approval, safety checks, validity) are shown, not changed, here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        # Shown fields may be ones no form can hold (versions, approval stamps).
        return self.fields


def record_fields(model) -> tuple[str, ...]:
    """The audit fields `model` has, in display order."""
    names = {field.name for field in model._meta.get_fields()}
    return tuple(name for name in (*AUDIT_FIELDS, *ARCHIVE_FIELDS) if name in names)


class LookupAdmin(admin.ModelAdmin):
    """Lookup rows mirror TextChoices (synced after migrate): only their order may change."""

    list_display = ["code", "label", "position"]
    list_editable = ["position"]
    search_fields = ["code"]
    readonly_fields = ["code", "label"]
    fields = ["code", "label", "position"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ClinicSettings)
class ClinicSettingsAdmin(SimpleHistoryAdmin):
    """One record (the model pins id=1): it can be added once and never deleted. Its
    history says who changed a rule value, such as turning four-eyes plan approval off."""

    list_display = ["name", "time_zone", "min_laser_interval_weeks", "isotretinoin_washout_months", "updated_at"]
    readonly_fields = ["updated_at"]
    fieldsets = [
        ("Clinic", {"fields": ["name", "address", "phone", "email", "website", "time_zone", "currency"]}),
        (
            "Rules",
            {
                "fields": [
                    "min_laser_interval_weeks",
                    "min_saline_interval_weeks",
                    "isotretinoin_washout_months",
                    "reminder_lead_days",
                    "idle_logout_minutes",
                    "laser_check_days",
                    "correction_check_days",
                    "plan_approval_four_eyes",
                    "two_factor_for_staff",
                ]
            },
        ),
        ("Diary", {"fields": ["laser_minutes", "correction_minutes", "follow_up_minutes"]}),
        ("Record", {"fields": ["updated_at"]}),
    ]

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not ClinicSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Room)
class RoomAdmin(ArchivableAdminMixin, SimpleHistoryAdmin):
    """Reference data: the diary's rooms. A room bookings used is archived, not deleted."""

    list_display = ["name", "position", "archived_at"]
    readonly_fields = [*AUDIT_FIELDS, *ARCHIVE_FIELDS]


@admin.register(OpeningHours)
class OpeningHoursAdmin(SimpleHistoryAdmin):
    """Reference data: one row per weekday the clinic opens."""

    list_display = ["weekday", "opens", "closes"]


@admin.register(Closure)
class ClosureAdmin(SimpleHistoryAdmin):
    """Reference data: days the clinic is closed (bank holidays, training)."""

    list_display = ["day", "reason"]
    date_hierarchy = "day"


class AuditLogAdmin(EstimatedCountAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """An append-only audit record: listed and searchable, never added, changed or deleted
    (the model and, on PostgreSQL, a trigger refuse it too). No delete action either."""

    date_hierarchy = "at"

    def get_actions(self, request):
        return {}


@admin.register(LoginEvent)
class LoginEventAdmin(AuditLogAdmin):
    list_display = ["at", "kind", "username", "user", "ip"]
    list_filter = ["kind"]
    search_fields = ["username", "ip"]
    list_select_related = ["user"]


# Two-factor devices hold sign-in secrets: not shown in the admin. A manager resets a
# lost phone on the lockouts page, which records who did it.
for _device in ("otp_totp.TOTPDevice", "otp_static.StaticDevice"):
    from django.apps import apps as _apps

    _model = _apps.get_model(_device)
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
