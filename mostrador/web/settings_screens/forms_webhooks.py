"""The webhook form of the settings screens. It only shapes what was typed; the actions check
the address and the event types and their objections are put back next to the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mostrador.automation.webhooks import ALL_EVENTS, EVENT_TYPES
from mostrador.web.settings_screens.forms import Form


def event_type_choices() -> list[tuple[str, Any]]:
    return [(kind, _("Every event (*)") if kind == ALL_EVENTS else kind) for kind in EVENT_TYPES]


class WebhookForm(Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    url = forms.CharField(label=_("Receiver URL"), max_length=1000,
                          help_text=_("Where to POST, e.g. https://crm.example.org/hooks/desk"))
    event_types = forms.MultipleChoiceField(
        label=_("Events"), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")})
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = event_type_choices()

    @staticmethod
    def initial_for(subscription) -> dict[str, Any]:
        return {"name": subscription.name, "url": subscription.url,
                "event_types": list(subscription.event_types or []),
                "active": subscription.active}

    def webhook_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"name": data["name"], "url": data["url"], "event_types": data["event_types"],
                "active": data["active"]}
