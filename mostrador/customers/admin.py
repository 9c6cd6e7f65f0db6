"""Read-only admin pages for customers and organisations.

Customers change through ``customers.actions`` (which keep their change log), so these pages
show them and never save them.
"""

from __future__ import annotations

from django.contrib import admin

from mostrador.customers.models import Customer, Identity, Organisation


class ReadOnlyMixin:
    """Viewable by staff with view permission; never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class IdentityInline(ReadOnlyMixin, admin.TabularInline):
    model = Identity
    extra = 0
    fields = ("kind", "external_id", "verified", "created_at")
    readonly_fields = fields


@admin.register(Customer)
class CustomerAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "organisation", "language", "time_zone", "created_at")
    list_filter = ("language", "organisation")
    search_fields = ("name", "identities__external_id")
    list_select_related = ("organisation",)
    ordering = ("name", "id")
    show_full_result_count = False
    inlines = (IdentityInline,)


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "domains", "created_at")
    search_fields = ("name",)
