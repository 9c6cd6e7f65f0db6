"""Forms of the settings screens. They turn what an administrator typed into the arguments of
the actions; the channel adapter still validates an inbox's settings as a whole, and its errors
are put back next to the fields they concern."""

from __future__ import annotations

import zoneinfo
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pydantic
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from mostrador.accounts.models import Agent, Team
from mostrador.conversations.models import Inbox
from mostrador.core.mail import SmtpRelay


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
            "default_team": inbox.default_team_id, "active": inbox.active,
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


class NewTeamForm(Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    tier = forms.TypedChoiceField(label=_("Tier"), choices=TIER_CHOICES, coerce=int, initial=1)

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
