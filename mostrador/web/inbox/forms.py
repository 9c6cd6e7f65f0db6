"""The inbox's forms: the filters (a GET form whose query string is the view), bulk actions on
the selected rows, and saving the current filters as a view."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mostrador.conversations.models import Conversation
from mostrador.conversations.queries import ConversationFilters

Status = Conversation.Status
# Work still on the desk's side: what an agent's own queues show.
OPEN_WORK = [Status.NEW.value, Status.OPEN.value, Status.ON_HOLD.value]

# The tabs every agent has: name -> (label, filters as the query string carries them).
PRESETS: dict[str, tuple[Any, dict[str, Any]]] = {
    "mine": (pgettext_lazy("inbox view", "Mine"), {"assignee": "me", "status": OPEN_WORK}),
    "unassigned": (pgettext_lazy("inbox view", "Unassigned"),
                   {"assignee": "none", "status": OPEN_WORK}),
    "teams": (pgettext_lazy("inbox view", "My teams"), {"team": "mine", "status": OPEN_WORK}),
    "all": (pgettext_lazy("inbox view", "All"), {}),
    "pending": (pgettext_lazy("inbox view", "Pending"), {"status": [Status.PENDING.value]}),
    "solved": (pgettext_lazy("inbox view", "Solved"),
               {"status": [Status.SOLVED.value, Status.CLOSED.value]}),
}
DEFAULT_VIEW = "mine"

ORDER_CHOICES = [
    ("-last_activity", _("Newest activity")),
    ("waiting", _("Oldest waiting")),
    ("-priority", _("Priority")),
    ("sla", _("SLA: least time left")),
]
DEFAULT_ORDER = "-last_activity"
# The filter fields, in the order of the query string (cursor and view are not filters).
FILTER_KEYS = ("status", "priority", "inbox", "assignee", "team", "tag", "customer", "q",
               "order")
PAGE_SIZE = 50
MAX_BULK = 200


class FilterForm(forms.Form):
    """Everything after ``?`` in the inbox's address. Choices come from the view (one query
    each), so rendering the form and validating it cost the same queries."""

    status = forms.MultipleChoiceField(label=_("Status"), required=False,
                                       choices=Status.choices,
                                       widget=forms.CheckboxSelectMultiple)
    priority = forms.TypedChoiceField(
        label=_("Priority"), required=False, coerce=int, empty_value=None,
        choices=[("", _("Any priority")), *Conversation.Priority.choices])
    inbox = forms.TypedChoiceField(label=_("Channel"), required=False, coerce=int,
                                   empty_value=None)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=64,
                          widget=forms.TextInput(attrs={"list": "inbox-tag-suggestions",
                                                        "autocomplete": "off"}))
    customer = forms.IntegerField(label=_("Customer"), required=False, min_value=1,
                                  widget=forms.HiddenInput)
    q = forms.CharField(label=_("Search"), required=False, max_length=200,
                        widget=forms.TextInput(attrs={"type": "search"}))
    order = forms.ChoiceField(label=_("Sort by"), required=False, choices=ORDER_CHOICES)

    def __init__(self, data=None, *, inboxes=(), agents=(), teams=(), **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.fields["inbox"].choices = [("", _("All channels")),
                                        *((pk, name) for pk, name, _kind in inboxes)]
        self.fields["assignee"].choices = [
            ("", _("Anyone")), ("me", _("Me")), ("none", _("Unassigned")),
            *((str(pk), name) for pk, name in agents)]
        self.fields["team"].choices = [("", _("Any team")), ("mine", _("My teams")),
                                       *((str(team.pk), team.name) for team in teams)]

    def clean_tag(self) -> str:
        return " ".join(self.cleaned_data["tag"].strip().lower().split())

    def clean_q(self) -> str:
        return self.cleaned_data["q"].strip()

    def filter_values(self) -> dict[str, Any]:
        """The valid, non-empty filters, as the query string and saved views carry them."""
        cleaned = getattr(self, "cleaned_data", {})
        values = {key: cleaned[key] for key in FILTER_KEYS
                  if key not in self.errors and cleaned.get(key) not in (None, "", [])}
        if values.get("order") == DEFAULT_ORDER:
            del values["order"]
        return values


def filter_query(values: dict[str, Any], **extra: Any) -> str:
    """The query string of ``values`` (lists repeat their key), with ``extra`` after it."""
    pairs = [(key, values[key]) for key in FILTER_KEYS if values.get(key) not in (None, "", [])]
    pairs += [(key, value) for key, value in extra.items() if value not in (None, "")]
    return urlencode(pairs, doseq=True)


def as_query_dict(values: dict[str, Any]) -> QueryDict:
    return QueryDict(filter_query(values))


def to_conversation_filters(values: dict[str, Any], user) -> tuple[ConversationFilters, str]:
    """The query layer's filters for ``values``, and the team choice ("", "mine" or an id),
    which the caller resolves: "my teams" may be several teams."""
    filters = ConversationFilters(
        status=list(values.get("status", [])), priority=values.get("priority"),
        inbox=values.get("inbox"), customer=values.get("customer"),
        tag=values.get("tag") or None, q=values.get("q", ""),
        order=values.get("order") or DEFAULT_ORDER)
    assignee = values.get("assignee", "")
    if assignee == "me":
        filters.assignee = user.pk
    elif assignee == "none":
        filters.unassigned = True
    elif assignee:
        filters.assignee = int(assignee)
    team = values.get("team", "")
    if team and team != "mine":
        filters.team = int(team)
    return filters, team


class IdListField(forms.Field):
    """Conversation ids from repeated ``ids`` values (the row checkboxes)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        try:
            return sorted({int(v) for v in value})
        except (TypeError, ValueError):
            raise forms.ValidationError(_("Pick the conversations from the list.")) from None


class BulkForm(forms.Form):
    """One action on the selected rows; the clicked button names the action."""

    ACTIONS = ("assign", "status", "tag", "read", "unread")

    ids = IdListField(required=False)
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
    assign_to = forms.ChoiceField(label=_("Assign to"), required=False)
    set_status = forms.ChoiceField(label=_("Set status"), required=False,
                                   choices=[("", "—"), *Status.choices])
    add_tag = forms.CharField(label=_("Add tag"), required=False, max_length=64)
    next = forms.CharField(required=False, max_length=2000)

    def __init__(self, data=None, *, agents=(), **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.fields["assign_to"].choices = [("", "—"), ("me", _("Me")),
                                            ("none", _("Nobody (unassign)")),
                                            *((str(pk), name) for pk, name in agents)]

    def clean_ids(self) -> list[int]:
        ids = self.cleaned_data["ids"]
        if len(ids) > MAX_BULK:
            raise forms.ValidationError(
                _("Select at most %(count)d conversations at a time.") % {"count": MAX_BULK})
        return ids

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        action = cleaned.get("action")
        if not self.errors and not cleaned.get("ids"):
            self.add_error("ids", _("Select at least one conversation first."))
        if action == "assign" and not cleaned.get("assign_to"):
            self.add_error("assign_to", _("Choose who gets the conversations."))
        elif action == "status" and not cleaned.get("set_status"):
            self.add_error("set_status", _("Choose the new status."))
        elif action == "tag":
            tag = " ".join((cleaned.get("add_tag") or "").strip().lower().split())
            if not tag:
                self.add_error("add_tag", _("Type the tag to add."))
            cleaned["add_tag"] = tag
        return cleaned


class SaveViewForm(forms.Form):
    name = forms.CharField(label=_("View name"), max_length=80)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
