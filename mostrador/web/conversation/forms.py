"""The forms of the conversation page. They parse and check input; the actions decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from mostrador.conversations.models import Conversation
from mostrador.knowledge.models import Language
from mostrador.knowledge.queries import list_categories

# Choosing a value saves it (app.js submits the form); a Save button shows without script.
AUTOSUBMIT = forms.Select(attrs={"data-autosubmit": ""})

SEND_CHOICES = [("send", _("Send")), ("pending", _("Send and set pending")),
                ("solved", _("Send and solve"))]


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Reply"), widget=forms.Textarea(attrs={"rows": 5}),
                           required=False, strip=True)
    channel = forms.ChoiceField(label=_("Send via"), choices=[])
    send = forms.ChoiceField(choices=SEND_CHOICES, required=False)

    def __init__(self, *args, channels: list[tuple[str, str]], **kwargs) -> None:
        kwargs.setdefault("auto_id", "reply-%s")
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = channels

    def status(self) -> str | None:
        choice = self.cleaned_data.get("send") or "send"
        return None if choice == "send" else choice


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 4}),
                           required=False, strip=True)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "note-%s")
        super().__init__(*args, **kwargs)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Conversation.Status.choices,
                               widget=AUTOSUBMIT)


class PriorityForm(forms.Form):
    priority = forms.TypedChoiceField(label=_("Priority"), coerce=int,
                                      choices=Conversation.Priority.choices, widget=AUTOSUBMIT)


class AssigneeForm(forms.Form):
    assignee = forms.TypedChoiceField(label=_("Assignee"), coerce=int, empty_value=None,
                                      required=False, choices=[], widget=AUTOSUBMIT)

    def __init__(self, *args, agents, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", _("Unassigned"))] + [
            (a.user_id, a.display_name) for a in agents]


class TeamForm(forms.Form):
    team = forms.TypedChoiceField(label=_("Team"), coerce=int, empty_value=None,
                                  required=False, choices=[], widget=AUTOSUBMIT)

    def __init__(self, *args, teams, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", _("No team"))] + [(t.pk, t.name) for t in teams]


class SubjectForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=500, required=False)


class TagsForm(forms.Form):
    add = forms.CharField(label=_("Add tags"), max_length=500, required=False,
                          help_text=_("Separate tags with commas."))
    remove = forms.CharField(max_length=64, required=False)

    def names_to_add(self) -> list[str]:
        return [n for n in (self.cleaned_data.get("add") or "").split(",") if n.strip()]


class FieldsForm(forms.Form):
    key = forms.CharField(label=_("Field"), max_length=64, required=False)
    value = forms.CharField(label=_("Value"), max_length=1000, required=False)
    remove = forms.CharField(max_length=64, required=False)


class MergeForm(forms.Form):
    target = forms.IntegerField(label=_("Merge into conversation number"), min_value=1)


class ArticleFromReplyForm(forms.Form):
    """A reply made into a draft article. The knowledge base's action checks the title, the
    language and the category; the form only offers the choices."""

    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    body = forms.CharField(label=_("Text"), required=False, strip=True,
                           widget=forms.Textarea(attrs={"rows": 8}),
                           help_text=_("Plain text; blank lines separate paragraphs. Take out "
                                       "what only this customer needs to read."))
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    category = forms.ChoiceField(label=_("Category (optional)"), required=False, choices=[])

    def __init__(self, *args, message, **kwargs) -> None:
        kwargs.setdefault("auto_id", f"article-{message.pk}-%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        # The conversation page's script focuses it once the form is swapped in.
        self.fields["title"].widget.attrs["data-focus-now"] = ""
        if not self.initial.get("language"):
            ui = (get_language() or "")[:2]
            self.initial["language"] = ui if ui in Language.values else Language.SPANISH
        language = self.initial["language"]
        self.fields["category"].choices = [("", _("No category"))] + [
            (str(category.pk), category.name_in(language)) for category in list_categories()]


FORMS = {"status": StatusForm, "priority": PriorityForm, "subject": SubjectForm}
