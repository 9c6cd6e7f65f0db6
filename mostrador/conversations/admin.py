"""Read-only admin pages for conversations and the raw inbound store.

Conversations, messages and their timeline change only through the actions (which write the
event and publish it), so these pages show them and never save them: no add, change or delete.
The one thing an administrator does here is process quarantined payloads again, which calls
the same ``process_raw`` as ``mostrador mail reprocess``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mostrador.conversations import actions
from mostrador.conversations.models import Conversation, Event, Inbox, Message, RawInbound
from mostrador.customers.admin import ReadOnlyMixin


class MessageInline(ReadOnlyMixin, admin.StackedInline):
    model = Message
    extra = 0
    fields = ("created_at", "direction", "author_kind", "author_user", "author_customer",
              "delivery_status", "delivery_error", "text")
    readonly_fields = fields
    ordering = ("created_at", "id")
    show_change_link = False


class EventInline(ReadOnlyMixin, admin.TabularInline):
    model = Event
    extra = 0
    fields = ("at", "kind", "actor_user", "actor_customer", "before", "after")
    readonly_fields = fields
    ordering = ("at", "id")
    verbose_name_plural = _("timeline")


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "subject", "customer", "status", "priority", "assignee",
                    "last_activity_at")
    list_display_links = ("id", "subject")
    list_filter = ("status", "priority", "inbox")
    search_fields = ("subject",)
    list_select_related = ("customer", "assignee")
    ordering = ("-last_activity_at", "-id")
    list_per_page = 50
    # Counting every match on each page view costs more than it tells on a large desk.
    show_full_result_count = False
    inlines = (MessageInline, EventInline)
    fieldsets = (
        (None, {"fields": ("subject", "customer", "inbox", "status", "priority", "assignee",
                           "team", "tag_names")}),
        (_("Clocks"), {"classes": ("collapse",), "fields": (
            "created_at", "last_activity_at", "waiting_since", "first_response_at", "solved_at",
            "closed_at", "first_response_due", "next_response_due", "resolution_due")}),
        (_("More"), {"classes": ("collapse",), "fields": (
            "channel_kind", "language", "sentiment", "tier", "request_type", "custom_fields",
            "message_count", "follow_up_of", "merged_into")}),
    )
    readonly_fields = ("tag_names",)

    @admin.display(description=_("tags"))
    def tag_names(self, obj: Conversation) -> str:
        return ", ".join(obj.tags.order_by("name").values_list("name", flat=True))


@admin.register(Inbox)
class InboxAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "channel_kind", "default_team", "active", "created_at")
    list_filter = ("channel_kind", "active")


@admin.register(Event)
class EventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("at", "conversation", "kind", "actor_user", "actor_customer")
    list_filter = ("kind",)
    list_select_related = ("conversation", "actor_user", "actor_customer")
    ordering = ("-at", "-id")
    show_full_result_count = False


@admin.register(RawInbound)
class RawInboundAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "channel_kind", "status", "source", "received_at", "short_error",
                    "attempts")
    list_filter = ("status", "channel_kind")
    search_fields = ("source", "error")
    ordering = ("-received_at", "-id")
    exclude = ("payload",)
    actions = ("process_again",)
    show_full_result_count = False

    @admin.display(description=_("error"))
    def short_error(self, obj: RawInbound) -> str:
        return obj.error if len(obj.error) <= 120 else obj.error[:119] + "…"

    @admin.action(description=_("Process again (after fixing the cause)"))
    def process_again(self, request, queryset) -> None:
        waiting = queryset.filter(status__in=[RawInbound.Status.QUARANTINED,
                                              RawInbound.Status.PENDING])
        outcomes: dict[str, int] = {}
        for raw in waiting.select_related("inbox").order_by("pk"):
            result = actions.process_raw(raw)
            outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
        skipped = queryset.count() - sum(outcomes.values())
        if outcomes:
            summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
            level = messages.WARNING if outcomes.get("quarantined") else messages.SUCCESS
            self.message_user(request, _("Processed again: %(summary)s.") % {"summary": summary},
                              level)
        if skipped:
            self.message_user(request, ngettext(
                "%(count)d payload was already processed and was left alone.",
                "%(count)d payloads were already processed and were left alone.", skipped)
                % {"count": skipped}, messages.INFO)
