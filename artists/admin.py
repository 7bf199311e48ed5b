from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from artists.models import Artist, Certification, Specialisation, Studio
from smpclinic.admin import ArchivableAdminMixin, ClinicalAdmin, ClinicalInline, LookupAdmin

admin.site.register(Specialisation, LookupAdmin)


@admin.register(Studio)
class StudioAdmin(ArchivableAdminMixin, ClinicalAdmin):
    list_display = ["name", "city", "country", "is_own_clinic", "website"]
    list_filter = ["is_own_clinic", "country"]
    search_fields = ["name", "city"]


class CertificationInline(ClinicalInline):
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
    autocomplete_fields = ["artist"]
    date_hierarchy = "issued_on"

    @admin.display(boolean=True, description="valid today")
    def valid_today(self, obj: Certification) -> bool:
        return obj.archived_at is None and obj.is_valid_on(timezone.localdate())
