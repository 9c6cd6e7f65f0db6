"""Forms of the customer pages: they parse what an agent typed into the values the customer
actions take, with errors next to the fields."""

from __future__ import annotations

import json
import re
import zoneinfo
from typing import Any

from django import forms
from django.conf import global_settings
from django.utils.translation import gettext_lazy as _

from mostrador.customers.actions import normalise_external_id
from mostrador.customers.models import Identity, Organisation


class Form(forms.Form):
    """A form whose labels carry no trailing colon (the page's typography sets them apart)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


COMMON_ZONES = (
    "Europe/Madrid", "Atlantic/Canary", "Europe/London", "Europe/Lisbon", "America/Mexico_City",
    "America/Bogota", "America/Lima", "America/Santiago", "America/Argentina/Buenos_Aires",
    "America/New_York", "America/Los_Angeles", "UTC",
)
_NUMBER_RE = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?$")


def language_choices(current: str = "") -> list[tuple[str, Any]]:
    choices: list[tuple[str, Any]] = [("", _("Unknown"))]
    choices += [(code, name) for code, name in global_settings.LANGUAGES]
    if current and current not in dict(choices):
        choices.append((current, current))
    return choices


def zone_choices(current: str = "") -> list[tuple[str, Any]]:
    rest = sorted(zoneinfo.available_timezones() - set(COMMON_ZONES))
    choices: list[tuple[str, Any]] = [("", _("Unknown"))]
    choices += [(zone, zone) for zone in (*COMMON_ZONES, *rest)]
    if current and current not in dict(choices):
        choices.append((current, current))
    return choices


class CustomerForm(Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)
    organisation = forms.ModelChoiceField(label=_("Organisation"), required=False,
                                          queryset=Organisation.objects.order_by("name"),
                                          empty_label=_("None"))
    segments = forms.CharField(label=_("Segments"), required=False,
                               help_text=_("Separated by commas, e.g. premium, vip."))

    def __init__(self, *args: Any, current_language: str = "", current_zone: str = "",
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = language_choices(current_language)
        self.fields["time_zone"].choices = zone_choices(current_zone)

    def clean_segments(self) -> list[str]:
        raw = self.cleaned_data.get("segments") or ""
        segments: list[str] = []
        for part in raw.split(","):
            segment = " ".join(part.strip().lower().split())
            if not segment:
                continue
            if len(segment) > 40:
                raise forms.ValidationError(_("Segments are at most 40 characters."))
            if segment not in segments:
                segments.append(segment)
        return segments


class IdentityForm(Form):
    kind = forms.ChoiceField(label=_("Channel"), choices=Identity.Kind.choices)
    external_id = forms.CharField(label=_("Address or number"), max_length=320)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind, external_id = data.get("kind"), data.get("external_id")
        if kind == Identity.Kind.EMAIL and external_id:
            try:
                forms.EmailField().clean(external_id.strip())
            except forms.ValidationError:
                self.add_error("external_id", _("Enter a valid e-mail address."))
                return data
        if kind and external_id:
            data["external_id"] = normalise_external_id(kind, external_id)
        return data


def sorted_attributes(attributes: dict[str, Any] | None) -> list[tuple[str, Any]]:
    """By name: the order keys were written in is not kept by every database (PostgreSQL's
    jsonb orders them its own way), and a stable order is easier to scan."""
    return sorted((attributes or {}).items(), key=lambda item: item[0].lower())


def display_value(value: Any) -> str:
    """An attribute's value as an agent edits it: text as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def parse_value(text: str, *, like: Any = None) -> Any:
    """What an agent typed, as the kind of value it replaces: numbers stay numbers, true/false
    stay booleans, lists and objects are JSON. A new value that looks like a number becomes
    one (lifetime value, seats), anything else is text."""
    text = text.strip()
    if isinstance(like, bool):
        lowered = text.lower()
        if lowered in {"true", "false"}:
            return lowered == "true"
        raise ValueError(_("Write true or false."))
    if isinstance(like, int | float) or (like is None and _NUMBER_RE.match(text)):
        if not _NUMBER_RE.match(text):
            if like is None:
                return text
            raise ValueError(_("Write a number, e.g. 1200 or 99.90."))
        return float(text) if "." in text else int(text)
    if isinstance(like, dict | list):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(_("Write valid JSON.")) from None
        return value
    return text


class AttributesForm(Form):
    """Edit every attribute at once: change values, remove some, add one."""

    new_key = forms.CharField(label=_("New attribute"), max_length=64, required=False,
                              help_text=_("For example plan, lifetime_value or last_purchase."))
    new_value = forms.CharField(label=_("Value"), max_length=2000, required=False)

    def __init__(self, attributes: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attributes = dict(attributes or {})
        self.rows: list[tuple[str, str, str, str]] = []
        for index, (key, value) in enumerate(sorted_attributes(self.attributes)):
            self.fields[f"key_{index}"] = forms.CharField(widget=forms.HiddenInput,
                                                          initial=key, required=False)
            self.fields[f"value_{index}"] = forms.CharField(
                label=key, initial=display_value(value), required=False, max_length=2000)
            self.fields[f"remove_{index}"] = forms.BooleanField(
                label=_("Remove %(key)s") % {"key": key}, required=False)
            self.rows.append((key, f"key_{index}", f"value_{index}", f"remove_{index}"))

    def attribute_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField,
                                           forms.BoundField]]:
        return [(key, self[k], self[v], self[r]) for key, k, v, r in self.rows]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        result: dict[str, Any] = {}
        for key, key_field, value_field, remove_field in self.rows:
            if data.get(key_field) != key:
                raise forms.ValidationError(_("The attributes changed while you edited them; "
                                              "reload the page and try again."))
            if data.get(remove_field):
                continue
            try:
                result[key] = parse_value(data.get(value_field) or "",
                                          like=self.attributes[key])
            except ValueError as exc:
                self.add_error(value_field, str(exc))
        new_key = " ".join((data.get("new_key") or "").split())
        if new_key:
            if new_key in result or new_key in self.attributes:
                self.add_error("new_key", _("There is already an attribute %(key)s; change "
                                            "its value above.") % {"key": new_key})
            else:
                result[new_key] = parse_value(data.get("new_value") or "")
        elif (data.get("new_value") or "").strip():
            self.add_error("new_key", _("Give the new value a name."))
        data["attributes"] = result
        return data


class MergeSearchForm(Form):
    q = forms.CharField(label=_("Find the other customer by name, e-mail or phone"),
                        max_length=200, required=False)
