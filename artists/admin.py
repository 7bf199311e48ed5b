"""Admin for studios, artists and certifications: reference data, editable where no rule hangs on it.

A certification's artist, kind and dates decide whether a technician may record laser
work on a day (a valid laser-safety certification on the day of the session). They are
set by the team page's add and renew, which check them (managers only, clinic artists
only, not issued in the future, expiring after issued), and never rewritten afterwards:
a renewal is a new certification, so sessions done under the old one stay valid. Here a
certification's issuer, number and notes can be corrected, and it can be archived with
a reason; it cannot be added or have its validity changed.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from artists.models import Artist, Certification, Specialisation, Studio
from smpclinic.admin import ArchivableAdminMixin, ClinicalAdmin, LookupAdmin, ReadOnlyInline

admin.site.register(Specialisation, LookupAdmin)


@admin.register(Studio)
class StudioAdmin(ArchivableAdminMixin, ClinicalAdmin):
    list_display = ["name", "city", "country", "is_own_clinic", "website"]
    list_filter = ["is_own_clinic", "country"]
    search_fields = ["name", "city"]


class CertificationInline(ReadOnlyInline):
    model = Certification
    fields = ["kind", "issuer", "number", "issued_on", "expires_on"]


@admin.register(Artist)
class ArtistAdmin(ArchivableAdminMixin, ClinicalAdmin):
    list_display = ["name", "kind", "studio", "years_experience", "email", "has_login"]
    list_filter = ["kind", "specialisations"]
    list_select_related = ["studio"]
    search_fields = ["last_name", "first_name", "email", "studio__name"]
    autocomplete_fields = ["user", "studio"]
    inlines = [CertificationInline]

    @admin.display(ordering="last_name")
    def name(self, obj: Artist) -> str:
        return obj.full_name

    @admin.display(description="login", boolean=True)
    def has_login(self, obj: Artist) -> bool:
        return obj.user_id is not None


class ValidityFilter(admin.SimpleListFilter):
    """Managers keep certifications current: what has lapsed, and what lapses soon."""

    title = "validity today"
    parameter_name = "validity"
    soon_days = 60

    def lookups(self, request, model_admin):
        return [
            ("valid", "Valid"),
            ("expiring", f"Expiring within {self.soon_days} days"),
            ("expired", "Expired"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "valid":
            return queryset.valid_on(today)
        if self.value() == "expiring":
            return queryset.expiring_within(today, self.soon_days)
        if self.value() == "expired":
            return queryset.expired_on(today)
        return queryset


@admin.register(Certification)
class CertificationAdmin(ArchivableAdminMixin, ClinicalAdmin):
    list_display = ["artist", "kind", "issuer", "number", "issued_on", "expires_on", "valid_today"]
    list_filter = [ValidityFilter, "kind"]
    list_select_related = ["artist"]
    search_fields = ["artist__last_name", "artist__first_name", "issuer", "number"]
    date_hierarchy = "issued_on"
    fieldsets = [(None, {"fields": ["artist", "kind", "issuer", "number", "issued_on", "expires_on", "notes"]})]
    # What the laser-certification rule reads (see the module docstring).
    validity_fields = ("artist", "kind", "issued_on", "expires_on")

    def has_add_permission(self, request) -> bool:
        return False  # added and renewed on the team page, which checks the dates

    def get_readonly_fields(self, request, obj=None):
        return (*self.validity_fields, *super().get_readonly_fields(request, obj))

    @admin.display(boolean=True, description="valid today")
    def valid_today(self, obj: Certification) -> bool:
        return obj.archived_at is None and obj.is_valid_on(timezone.localdate())
