"""The help center's two forms. Each field is checked by the same rules the actions apply
(``portal.actions.clean_*``), so the messages a reader sees are the ones the actions raise."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.utils.translation import gettext_lazy as _

from mostrador.core.errors import ValidationFailed
from mostrador.portal import actions
from mostrador.portal.models import COMMENT_MAX_CHARS


def _checked(clean: Callable[[str], str], value: str) -> str:
    try:
        return clean(value)
    except ValidationFailed as error:
        raise forms.ValidationError(error.message) from None


class RequestForm(forms.Form):
    """Name, e-mail, subject, message; ``visit`` is the form visit's token, ``website`` a
    field people never see (a bot that fills it is thanked and ignored)."""

    name = forms.CharField(required=False)
    email = forms.CharField(required=False)
    subject = forms.CharField(required=False)
    message = forms.CharField(required=False)
    visit = forms.CharField(required=False, max_length=64)
    website = forms.CharField(required=False)

    def clean_name(self) -> str:
        return _checked(actions.clean_name, self.cleaned_data["name"])

    def clean_email(self) -> str:
        return _checked(actions.clean_email, self.cleaned_data["email"])

    def clean_subject(self) -> str:
        return _checked(actions.clean_subject, self.cleaned_data["subject"])

    def clean_message(self) -> str:
        return _checked(actions.clean_message, self.cleaned_data["message"])

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class FeedbackForm(forms.Form):
    helpful = forms.ChoiceField(choices=[("yes", "yes"), ("no", "no")], error_messages={
        "required": _("Choose “Yes” or “No”."), "invalid_choice": _("Choose “Yes” or “No”.")})
    comment = forms.CharField(required=False, max_length=COMMENT_MAX_CHARS, error_messages={
        "max_length": _("A comment has at most %(limit_value)d characters.")})
