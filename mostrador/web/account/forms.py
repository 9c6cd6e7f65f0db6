from __future__ import annotations

import zoneinfo

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

COMMON_ZONES = [
    "Europe/Madrid", "Atlantic/Canary", "Europe/London", "Europe/Lisbon", "America/Mexico_City",
    "America/Bogota", "America/Lima", "America/Santiago", "America/Argentina/Buenos_Aires",
    "America/Caracas", "America/New_York", "America/Chicago", "America/Los_Angeles", "UTC",
]


def zone_choices() -> list[tuple[str, str]]:
    rest = sorted(zoneinfo.available_timezones() - set(COMMON_ZONES))
    return [("", _("The desk's time zone"))] + [(z, z) for z in COMMON_ZONES + rest]


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Name shown to customers and colleagues"),
                                   max_length=150)
    language = forms.ChoiceField(label=_("Language"), required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("As my browser says"))] + [
            (code, name) for code, name in settings.LANGUAGES]
        self.fields["time_zone"].choices = zone_choices()
