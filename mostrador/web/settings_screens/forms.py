"""Forms of the settings screens. They turn what an administrator typed into the arguments of
the actions; the channel adapter still validates an inbox's settings as a whole, and its errors
are put back next to the fields they concern."""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pydantic
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mostrador.accounts.models import Agent, Team
from mostrador.conversations.models import Conversation, Inbox
from mostrador.core.mail import SmtpRelay
from mostrador.customers.models import Identity
from mostrador.sla.models import Calendar


class Form(forms.Form):
    """A form whose labels carry no trailing colon (the page's typography sets them apart)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


SECURITY_PORTS = {"ssl": 993, "starttls": 143, "plain": 143}


# --- secrets in an SMTP URL -----------------------------------------------------------------


def url_password(url: str) -> str:
    try:
        return unquote(urlsplit(url).password or "")
    except ValueError:
        return ""


def without_password(url: str) -> str:
    """``url`` with the password taken out of it (what the form shows back)."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return url
    netloc = f"{user}@{host}{port}" if user else f"{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    user = parts.username or ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{user}:{quote(password, safe='')}@{parts.hostname}{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _same_account(url: str, stored: str) -> bool:
    try:
        a, b = urlsplit(url), urlsplit(stored)
        return (a.hostname, a.username) == (b.hostname, b.username) and bool(a.username)
    except ValueError:
        return False


# --- inboxes --------------------------------------------------------------------------------


def _split_addresses(raw: str) -> list[str]:
    return [part.strip() for part in raw.replace(",", "\n").replace(";", "\n").splitlines()
            if part.strip()]


# Where the adapter's Config reports a problem → the form field that holds it.
CONFIG_FIELDS = {
    "address": "address", "aliases": "aliases", "from_name": "from_name",
    "catch_all": "catch_all", "smtp_url": "smtp_url", "imap": "imap_host",
    "imap.host": "imap_host", "imap.port": "imap_port", "imap.security": "imap_security",
    "imap.username": "imap_username", "imap.password": "imap_password",
    "imap.folder": "imap_folder",
}


class EmailInboxForm(Form):
    """An e-mail inbox: its addresses, how replies go out, and where mail is fetched from.

    Passwords are never shown back; left empty they keep the saved one, as long as the server
    and user name stay the same (a changed server never receives the old password)."""

    name = forms.CharField(label=_("Name"), max_length=150,
                           help_text=_("How the desk calls this inbox, e.g. Soporte."))
    address = forms.EmailField(label=_("Support address"),
                               help_text=_("The address customers write to; replies go out "
                                           "from it."))
    aliases = forms.CharField(label=_("Other addresses"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("One per line: mail to these lands in this inbox "
                                          "too."))
    from_name = forms.CharField(label=_("Display name"), max_length=150, required=False,
                                help_text=_("The sender name customers see on replies; empty: "
                                            "the inbox's name."))
    catch_all = forms.BooleanField(label=_("Catch-all: mail to an address no inbox claims "
                                           "lands here"), required=False)
    smtp_url = forms.CharField(label=_("Outbound SMTP server"), max_length=500, required=False,
                               help_text=_("For example smtp://user@smtp.example.com:587"
                                           "?starttls=1 or smtps://user@smtp.example.com:465. "
                                           "Empty: the desk's default relay, or the outbox "
                                           "folder when there is none."))
    smtp_password = forms.CharField(label=_("SMTP password"), required=False, max_length=500,
                                    widget=forms.PasswordInput(render_value=False,
                                                               attrs={"autocomplete":
                                                                      "new-password"}))
    imap_host = forms.CharField(label=_("IMAP server"), max_length=255, required=False,
                                help_text=_("Fill in to fetch mail from a mailbox; leave empty "
                                            "when mail is forwarded to the SMTP receiver."))
    imap_security = forms.ChoiceField(label=_("IMAP security"), initial="ssl", choices=[
        ("ssl", _("SSL/TLS (usually port 993)")),
        ("starttls", _("STARTTLS (usually port 143)")),
        ("plain", _("None (only for test servers on this machine)")),
    ])
    imap_port = forms.IntegerField(label=_("IMAP port"), required=False, min_value=1,
                                   max_value=65535,
                                   help_text=_("Empty: the usual port for the security."))
    imap_username = forms.CharField(label=_("IMAP user name"), max_length=255, required=False)
    imap_password = forms.CharField(label=_("IMAP password"), required=False, max_length=500,
                                    widget=forms.PasswordInput(render_value=False,
                                                               attrs={"autocomplete":
                                                                      "new-password"}))
    imap_folder = forms.CharField(label=_("IMAP folder"), max_length=255, required=False,
                                  initial="INBOX")
    default_team = forms.ModelChoiceField(label=_("Default team"), required=False,
                                          queryset=Team.objects.order_by("name"),
                                          empty_label=_("No team"))
    calendar = forms.ModelChoiceField(
        label=_("Opening hours"), required=False, queryset=Calendar.objects.order_by("name"),
        empty_label=_("The desk's default calendar"),
        help_text=_("The hours its conversations' SLA targets count in, unless their team "
                    "has a calendar of its own."))
    active = forms.BooleanField(label=_("Active: take in mail and send replies"),
                                required=False, initial=True)

    def __init__(self, *args: Any, inbox: Inbox | None = None, **kwargs: Any) -> None:
        self.inbox = inbox
        self.stored = dict(inbox.config or {}) if inbox is not None else {}
        if inbox is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(inbox)
        super().__init__(*args, **kwargs)
        keep = _("Leave empty to keep the saved password.")
        if url_password(self.stored.get("smtp_url", "")):
            self.fields["smtp_password"].help_text = keep
        if (self.stored.get("imap") or {}).get("password"):
            self.fields["imap_password"].help_text = keep

    @staticmethod
    def initial_for(inbox: Inbox) -> dict[str, Any]:
        config = inbox.config or {}
        imap = config.get("imap") or {}
        return {
            "name": inbox.name, "address": config.get("address", ""),
            "aliases": "\n".join(config.get("aliases") or []),
            "from_name": config.get("from_name", ""), "catch_all": config.get("catch_all"),
            "smtp_url": without_password(config.get("smtp_url", "")),
            "imap_host": imap.get("host", ""), "imap_port": imap.get("port"),
            "imap_security": imap.get("security", "ssl"),
            "imap_username": imap.get("username", ""),
            "imap_folder": imap.get("folder", "INBOX"),
            "default_team": inbox.default_team_id, "calendar": inbox.calendar_id,
            "active": inbox.active,
        }

    def clean_aliases(self) -> list[str]:
        aliases = []
        for address in _split_addresses(self.cleaned_data.get("aliases") or ""):
            try:
                validate_email(address)
            except forms.ValidationError:
                raise forms.ValidationError(_("%(address)s is not an e-mail address.")
                                            % {"address": address}) from None
            if address.lower() not in aliases:
                aliases.append(address.lower())
        return aliases

    def clean_smtp_url(self) -> str:
        url = (self.cleaned_data.get("smtp_url") or "").strip()
        if not url:
            return ""
        try:
            SmtpRelay.from_url(url)
        except ValueError:
            raise forms.ValidationError(_("Write the server as smtp://user@host:587?starttls=1 "
                                          "or smtps://user@host:465.")) from None
        return url

    def relay_url(self) -> str:
        """The relay URL to save or try: the password typed, else the saved one when the
        server and user are unchanged."""
        url = self.cleaned_data.get("smtp_url") or ""
        if not url or url_password(url):
            return url
        password = self.cleaned_data.get("smtp_password") or ""
        stored = self.stored.get("smtp_url", "")
        if not password and url_password(stored) and _same_account(url, stored):
            password = url_password(stored)
        return with_password(url, password) if password and urlsplit(url).username else url

    def imap_settings(self) -> dict[str, Any] | None:
        host = (self.cleaned_data.get("imap_host") or "").strip()
        if not host:
            return None
        security = self.cleaned_data.get("imap_security") or "ssl"
        username = (self.cleaned_data.get("imap_username") or "").strip()
        password = self.cleaned_data.get("imap_password") or ""
        stored = self.stored.get("imap") or {}
        if not password and (stored.get("host"), stored.get("username")) == (host, username):
            password = stored.get("password", "")
        return {"host": host, "port": self.cleaned_data.get("imap_port")
                or SECURITY_PORTS[security], "security": security, "username": username,
                "password": password,
                "folder": (self.cleaned_data.get("imap_folder") or "").strip() or "INBOX"}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        url = data.get("smtp_url")
        if data.get("smtp_password") and url and not urlsplit(url).username:
            self.add_error("smtp_url", _("Put the user name in the address, e.g. "
                                         "smtp://user@smtp.example.com:587, for the password "
                                         "to be used."))
        imap = self.imap_settings()
        if imap is not None:
            if not imap["username"]:
                self.add_error("imap_username", _("The IMAP server needs a user name."))
            if not imap["password"]:
                self.add_error("imap_password", _("The IMAP server needs a password."))
        return data

    def config(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"address": data["address"].strip().lower(), "aliases": data["aliases"],
                "from_name": data.get("from_name", "").strip(),
                "catch_all": bool(data.get("catch_all")), "smtp_url": self.relay_url(),
                "imap": self.imap_settings()}

    def add_config_errors(self, error: pydantic.ValidationError) -> None:
        """The adapter's objections, next to the fields they concern."""
        for item in error.errors(include_url=False):
            loc = [str(part) for part in item.get("loc", ()) if not isinstance(part, int)]
            field = CONFIG_FIELDS.get(".".join(loc[:2])) or CONFIG_FIELDS.get(
                loc[0] if loc else "")
            message = str(item.get("msg", ""))
            for prefix in ("Value error, ", "Assertion failed, "):
                message = message.removeprefix(prefix)
            self.add_error(field if field in self.fields else None, message)


# --- staff ----------------------------------------------------------------------------------


def zone_choices() -> list[tuple[str, Any]]:
    common = ("Europe/Madrid", "Atlantic/Canary", "Europe/London", "America/Mexico_City",
              "America/Bogota", "America/Argentina/Buenos_Aires", "America/New_York", "UTC")
    rest = sorted(zoneinfo.available_timezones() - set(common))
    return [("", _("The desk's time zone")), *[(z, z) for z in (*common, *rest)]]


def role_choices(acting_user) -> list[tuple[str, Any]]:
    agent = getattr(acting_user, "agent", None)
    is_admin = acting_user.is_superuser or (agent is not None and agent.role == Agent.Role.ADMIN)
    return [(value, label) for value, label in Agent.Role.choices
            if is_admin or value != Agent.Role.ADMIN]


TIER_CHOICES = [(1, _("Tier 1 (first line)")), (2, _("Tier 2 (specialists)")),
                (3, _("Tier 3 (experts)"))]


class StaffForm(Form):
    display_name = forms.CharField(label=_("Name"), max_length=150)
    role = forms.ChoiceField(label=_("Role"))
    tier = forms.TypedChoiceField(label=_("Tier"), choices=TIER_CHOICES, coerce=int, initial=1)
    language = forms.ChoiceField(label=_("Language"), required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)

    def __init__(self, *args: Any, acting_user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(acting_user)
        self.fields["language"].choices = [("", _("As the browser says")),
                                           *settings.LANGUAGES]
        self.fields["time_zone"].choices = zone_choices()


class NewStaffForm(StaffForm):
    email = forms.EmailField(label=_("E-mail address"),
                             help_text=_("They sign in with it."))
    password_delivery = forms.ChoiceField(
        label=_("First password"), widget=forms.RadioSelect, initial="show", choices=[
            ("show", _("Make a random password and show it to me once")),
            ("email", _("E-mail them a link to choose their own password")),
        ])

    field_order = ["email", "display_name", "role", "tier", "language", "time_zone",
                   "password_delivery"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if get_user_model().objects.filter(username=email).exists():
            raise forms.ValidationError(_("There is already a user with this address."))
        return email


# --- teams ----------------------------------------------------------------------------------


def active_agents():
    return (get_user_model().objects.filter(is_active=True, agent__isnull=False)
            .select_related("agent").order_by("agent__display_name"))


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.agent.display_name


class AgentsChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.agent.display_name


def team_calendar_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("Opening hours"), required=False, queryset=Calendar.objects.order_by("name"),
        empty_label=_("The inbox's calendar"),
        help_text=_("The hours the team's conversations' SLA targets count in; wins over the "
                    "inbox's calendar."))


class NewTeamForm(Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    tier = forms.TypedChoiceField(label=_("Tier"), choices=TIER_CHOICES, coerce=int, initial=1)
    calendar = team_calendar_field()

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Team.objects.filter(name=name).exists():
            raise forms.ValidationError(_("There is already a team called %(name)s.")
                                        % {"name": name})
        return name


class TeamForm(Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    tier = forms.TypedChoiceField(label=_("Tier"), choices=TIER_CHOICES, coerce=int)
    members = AgentsChoiceField(label=_("Members"), required=False,
                                queryset=active_agents(),
                                widget=forms.CheckboxSelectMultiple)
    lead = AgentChoiceField(label=_("Lead"), required=False, queryset=active_agents(),
                            empty_label=_("No lead"),
                            help_text=_("The lead joins the team if not a member yet."))
    calendar = team_calendar_field()


# --- hours and SLAs -------------------------------------------------------------------------

COMMON_ZONES = ("Europe/Madrid", "Atlantic/Canary", "Europe/Lisbon", "Europe/London",
                "America/Mexico_City", "America/Bogota", "America/Lima", "America/Santiago",
                "America/Argentina/Buenos_Aires", "America/New_York", "America/Los_Angeles",
                "UTC")
OTHER_ZONE = "other"
# A context of their own, so that Django's date formats keep their own day names.
WEEKDAY_FIELDS = (
    ("mon", pgettext_lazy("opening hours", "Monday")),
    ("tue", pgettext_lazy("opening hours", "Tuesday")),
    ("wed", pgettext_lazy("opening hours", "Wednesday")),
    ("thu", pgettext_lazy("opening hours", "Thursday")),
    ("fri", pgettext_lazy("opening hours", "Friday")),
    ("sat", pgettext_lazy("opening hours", "Saturday")),
    ("sun", pgettext_lazy("opening hours", "Sunday")),
)
# "09:00-14:00", "9-14", "9:30 – 18", "22:00-06:00" (across midnight).
_PERIOD_RE = re.compile(r"(\d{1,2}(?:[:.h]\d{2})?)\s*(?:-|–|—)\s*(\d{1,2}(?:[:.h]\d{2})?)")


def _clock(value: str) -> str:
    """``"9"``, ``"9:30"``, ``"9.30"``, ``"9h30"`` → ``"09:00"``, ``"09:30"``."""
    hours, *minutes = re.split(r"[:.h]", value, maxsplit=1)
    hour, minute = int(hours), int(minutes[0]) if minutes else 0
    if not ((hour < 24 and minute < 60) or (hour, minute) == (24, 0)):
        raise forms.ValidationError(_("%(value)s is not a time of day.") % {"value": value})
    return f"{hour:02d}:{minute:02d}"


def parse_periods(text: str) -> list[list[str]]:
    """``"09:00-14:00, 15:00-18:00"`` → ``[["09:00", "14:00"], ["15:00", "18:00"]]``; empty
    text is no period (closed)."""
    periods = []
    for part in re.split(r"[,;\n]+", text or ""):
        part = part.strip()
        if not part:
            continue
        match = _PERIOD_RE.fullmatch(part)
        if match is None:
            raise forms.ValidationError(
                _("“%(part)s” is not a period: write it as 09:00-14:00, and separate periods "
                  "with commas.") % {"part": part})
        start, end = (_clock(value) for value in match.groups())
        if start == end:
            raise forms.ValidationError(_("A period cannot start and end at the same time "
                                          "(write 00:00-24:00 for the whole day)."))
        periods.append([start, end])
    return periods


def format_periods(periods: Any) -> str:
    return ", ".join(f"{start}-{end}" for start, end in periods or [])


class PeriodsField(forms.CharField):
    """Opening periods typed on one line, cleaned into ``[[start, end], …]``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("widget", forms.TextInput(attrs={
            "placeholder": "09:00-14:00, 15:00-18:00", "autocomplete": "off",
            "spellcheck": "false"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[list[str]]:
        return parse_periods(super().clean(value))


@functools.cache
def holiday_countries() -> tuple[tuple[str, str], ...]:
    """The countries whose public holidays the ``holidays`` package knows, (code, name) by
    name."""
    import holidays as holiday_tables
    from holidays.registry import COUNTRIES

    supported = holiday_tables.list_supported_countries()
    names = {}
    for class_name, code, *_rest in COUNTRIES.values():
        if code in supported:
            names[code] = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", class_name)
    return tuple(sorted(names.items(), key=lambda pair: pair[1]))


@functools.cache
def holiday_regions(country: str) -> tuple[tuple[str, str], ...]:
    """The country's regions with holidays of their own, (code, name). Codes the calendar
    stores upper-cased only: the few named ones (cities, school zones) are left out."""
    import holidays as holiday_tables

    codes = holiday_tables.list_supported_countries().get(country) or []
    aliases = getattr(getattr(holiday_tables, country, None), "subdivisions_aliases", {}) or {}
    names: dict[str, str] = {}
    for name, code in aliases.items():
        names.setdefault(code, name)
    return tuple((code, f"{names[code]} ({code})" if code in names else code)
                 for code in codes if code == code.upper())


def next_holidays(country: str, region: str, today: dt.date,
                  count: int = 10) -> list[tuple[dt.date, str]]:
    """The next ``count`` public holidays of the country (and region) from ``today`` on."""
    if not country:
        return []
    from mostrador.sla.calendars import public_holidays

    try:
        table = public_holidays(country, region, today.year, today.year + 2)
    except (NotImplementedError, KeyError, ValueError):
        return []
    return sorted((day, name) for day, name in table.items() if day >= today)[:count]


class CalendarForm(Form):
    """A calendar: its name, time zone, weekly opening periods, public holidays, after-hours
    reply and whether it is the desk's default."""

    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("e.g. Soporte Madrid, Phone line, Mexico team."))
    time_zone = forms.ChoiceField(label=_("Time zone"),
                                  help_text=_("The opening hours are read in this zone."))
    time_zone_other = forms.CharField(
        label=_("Another time zone"), required=False, max_length=64,
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off",
                                      "placeholder": "America/Caracas"}),
        help_text=_("When the zone is not in the list: its IANA name, e.g. America/Caracas."))
    country = forms.ChoiceField(label=_("Public holidays of"), required=False)
    subdivision = forms.ChoiceField(label=_("Region"), required=False,
                                    help_text=_("Regional holidays as well, e.g. Madrid's."))
    after_hours_reply = forms.BooleanField(
        label=_("Tell customers who write outside these hours when a person will answer"),
        required=False, initial=True)
    is_default = forms.BooleanField(
        label=_("The desk's default calendar (for inboxes and teams that name none)"),
        required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [*((zone, zone) for zone in COMMON_ZONES),
                                            (OTHER_ZONE, _("Another zone (type it below)"))]
        for day, label in WEEKDAY_FIELDS:
            self.fields[f"hours_{day}"] = PeriodsField(label=label)
        self.fields["country"].choices = [("", _("None")), *(
            (code, f"{name} ({code})") for code, name in holiday_countries())]
        country = (self.data.get("country") if self.is_bound
                   else self.initial.get("country")) or ""
        self.fields["subdivision"].choices = [("", _("Only national holidays")),
                                              *holiday_regions(country)]
        # The weekdays sit between the zone and the holidays.
        self.order_fields(["name", "time_zone", "time_zone_other",
                           *(f"hours_{day}" for day, _label in WEEKDAY_FIELDS), "country",
                           "subdivision", "after_hours_reply", "is_default"])

    @staticmethod
    def initial_for(calendar) -> dict[str, Any]:
        common = calendar.time_zone in COMMON_ZONES
        initial = {"name": calendar.name,
                   "time_zone": calendar.time_zone if common else OTHER_ZONE,
                   "time_zone_other": "" if common else calendar.time_zone,
                   "country": calendar.country, "subdivision": calendar.subdivision,
                   "after_hours_reply": calendar.after_hours_reply,
                   "is_default": calendar.is_default}
        for day, _label in WEEKDAY_FIELDS:
            initial[f"hours_{day}"] = format_periods((calendar.weekly or {}).get(day))
        return initial

    @property
    def weekday_fields(self) -> list[forms.BoundField]:
        return [self[f"hours_{day}"] for day, _label in WEEKDAY_FIELDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        other = (data.get("time_zone_other") or "").strip()
        zone = other if other or data.get("time_zone") == OTHER_ZONE else data.get("time_zone")
        if not zone:
            self.add_error("time_zone_other", _("Type the time zone, e.g. America/Caracas."))
        else:
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                self.add_error("time_zone_other" if other else "time_zone",
                               _("%(zone)s is not a time zone.") % {"zone": zone})
        data["zone"] = zone
        if not self.errors and not any(data.get(f"hours_{day}") for day, _l in WEEKDAY_FIELDS):
            self.add_error(None, _("Give at least one day some opening hours."))
        return data

    def calendar_fields(self) -> dict[str, Any]:
        """The arguments of ``do_create_calendar`` / ``do_update_calendar``."""
        data = self.cleaned_data
        return {"name": data["name"], "time_zone": data["zone"],
                "weekly": {day: data[f"hours_{day}"] for day, _label in WEEKDAY_FIELDS
                           if data[f"hours_{day}"]},
                "country": data.get("country") or "",
                "subdivision": data.get("subdivision") or "",
                "after_hours_reply": data["after_hours_reply"],
                "is_default": data["is_default"]}


class CalendarDayForm(Form):
    """A date that does not follow the weekly hours."""

    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"},
                                                                  format="%Y-%m-%d"))
    kind = forms.ChoiceField(label=_("That day"), widget=forms.RadioSelect, initial="closed",
                             choices=[("closed", _("Closed all day")),
                                      ("special", _("Open these hours only"))])
    periods = PeriodsField(label=_("Special hours"),
                           help_text=_("For special hours, e.g. 09:00-13:00."))
    name = forms.CharField(label=_("Why"), required=False, max_length=100,
                           help_text=_("e.g. Company anniversary, Christmas Eve."))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == "special" and not data.get("periods") \
                and "periods" not in self.errors:
            self.add_error("periods", _("Give the hours the desk is open that day."))
        return data


UNIT_CHOICES = [("minutes", _("minutes")), ("hours", _("hours"))]
TARGET_FIELDS = (("first_response", _("First response")), ("next_response", _("Next response")),
                 ("resolution", _("Resolution")))


def _names(text: str) -> list[str]:
    return sorted({part.strip() for part in re.split(r"[,;\n]+", text or "") if part.strip()})


class PolicyForm(Form):
    """An SLA policy: which conversations it applies to, its targets and what a breach does."""

    name = forms.CharField(label=_("Name"), max_length=100)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    channels = forms.MultipleChoiceField(label=_("Channels"), required=False,
                                         widget=forms.CheckboxSelectMultiple)
    request_types = forms.CharField(label=_("Request types"), required=False, max_length=500,
                                    help_text=_("Separated by commas, e.g. reclamacion, "
                                                "queja."))
    priorities = forms.TypedMultipleChoiceField(
        label=_("Priorities"), required=False, coerce=int,
        choices=Conversation.Priority.choices, widget=forms.CheckboxSelectMultiple)
    segments = forms.CharField(label=_("Customer segments"), required=False, max_length=500,
                               help_text=_("Separated by commas, e.g. vip, enterprise."))
    business_hours = forms.TypedChoiceField(
        label=_("Count the time"), widget=forms.RadioSelect, initial="1",
        coerce=lambda value: value == "1",
        choices=[("1", _("in opening hours (business time)")),
                 ("0", _("around the clock (calendar time)"))])
    calendar = forms.ModelChoiceField(
        label=_("Calendar"), required=False, queryset=None,
        empty_label=_("The team's, else the inbox's, else the default"),
        help_text=_("Whose opening hours count for this policy's targets."))
    pause_when_pending = forms.BooleanField(
        label=_("Pause while the conversation waits on the customer"), required=False,
        initial=True)
    legal_days = forms.IntegerField(
        label=_("Legal deadline in business days"), required=False, min_value=1,
        max_value=366, help_text=_("For formal complaints: due at the close of the Nth business "
                                   "day after receipt. Empty: none."))
    legal_calendar = forms.ModelChoiceField(label=_("Legal calendar"), required=False,
                                            queryset=None, empty_label=_("The targets' calendar"))
    warn_percent = forms.IntegerField(label=_("Warn at this share of a target (%)"),
                                      min_value=1, max_value=100, initial=75)
    escalate_priority = forms.BooleanField(label=_("Raise the priority one step"),
                                           required=False, initial=True)
    escalate_tier = forms.BooleanField(label=_("Move up to the next tier"), required=False)
    escalate_team = forms.ModelChoiceField(label=_("Move to team"), required=False,
                                           queryset=None, empty_label=_("Keep the team"))
    notify_supervisors = forms.BooleanField(
        label=_("Tell the team lead (or the supervisors)"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        calendars = Calendar.objects.order_by("name")
        self.fields["calendar"].queryset = calendars
        self.fields["legal_calendar"].queryset = calendars
        self.fields["escalate_team"].queryset = Team.objects.order_by("name")
        channels = dict(Identity.Kind.choices)
        for value in self.initial.get("channels") or []:
            channels.setdefault(value, value)  # a channel no longer offered stays chosen
        self.fields["channels"].choices = list(channels.items())
        for kind, label in TARGET_FIELDS:
            self.fields[f"{kind}_amount"] = forms.IntegerField(
                label=label, required=False, min_value=1, max_value=366 * 24 * 60)
            self.fields[f"{kind}_unit"] = forms.ChoiceField(
                label=_("Unit"), choices=UNIT_CHOICES, initial="hours")

    @property
    def target_fields(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"{kind}_amount"], self[f"{kind}_unit"]) for kind, _label in TARGET_FIELDS]

    @staticmethod
    def initial_for(policy) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": policy.name, "active": policy.active, "channels": policy.channels or [],
            "request_types": ", ".join(policy.request_types or []),
            "priorities": policy.priorities or [], "segments": ", ".join(policy.segments or []),
            "business_hours": "1" if policy.business_hours else "0",
            "calendar": policy.calendar_id, "pause_when_pending": policy.pause_when_pending,
            "legal_days": policy.legal_days, "legal_calendar": policy.legal_calendar_id,
            "warn_percent": policy.warn_percent, "escalate_priority": policy.escalate_priority,
            "escalate_tier": policy.escalate_tier, "escalate_team": policy.escalate_team_id,
            "notify_supervisors": policy.notify_supervisors}
        for kind, _label in TARGET_FIELDS:
            minutes = getattr(policy, f"{kind}_minutes")
            if minutes and minutes % 60 == 0:
                initial[f"{kind}_amount"], initial[f"{kind}_unit"] = minutes // 60, "hours"
            else:
                initial[f"{kind}_amount"], initial[f"{kind}_unit"] = minutes, "minutes"
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for kind, _label in TARGET_FIELDS:
            amount = data.get(f"{kind}_amount")
            factor = 60 if data.get(f"{kind}_unit") == "hours" else 1
            data[f"{kind}_minutes"] = amount * factor if amount else None
        if data.get("legal_calendar") and not data.get("legal_days"):
            self.add_error("legal_days", _("Give the legal deadline's number of days, or "
                                           "leave the legal calendar empty."))
        return data

    def policy_fields(self) -> dict[str, Any]:
        """The arguments of ``do_create_policy`` / ``do_update_policy``."""
        data = self.cleaned_data
        return {
            "name": data["name"], "active": data["active"], "channels": data["channels"],
            "request_types": _names(data["request_types"]),
            "priorities": sorted(data["priorities"]), "segments": _names(data["segments"]),
            **{f"{kind}_minutes": data[f"{kind}_minutes"] for kind, _label in TARGET_FIELDS},
            "business_hours": data["business_hours"], "calendar": data["calendar"],
            "pause_when_pending": data["pause_when_pending"],
            "legal_days": data["legal_days"], "legal_calendar": data["legal_calendar"],
            "warn_percent": data["warn_percent"],
            "escalate_priority": data["escalate_priority"],
            "escalate_tier": data["escalate_tier"], "escalate_team": data["escalate_team"],
            "notify_supervisors": data["notify_supervisors"]}
