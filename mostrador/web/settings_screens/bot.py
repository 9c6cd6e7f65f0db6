"""Settings → Answer bot (supervisors and administrators): each inbox's bot (on or off, the
confidence threshold, a greeting in Spanish and English, the languages it answers in), a box to
try what it would answer there, and the questions it could not answer, to dismiss or to start
an article from.

Delivery only: the forms turn what was typed into the arguments of ``mostrador.bot.actions``,
which check the rights and the values; each page reads in a fixed number of queries, whatever
the number of inboxes or questions.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mostrador.bot import actions, answer, queries
from mostrador.bot.models import BotSettings, UnansweredQuestion
from mostrador.conversations.models import Inbox
from mostrador.core.errors import MostradorError, NotFound
from mostrador.knowledge.models import Article, Language
from mostrador.web.settings_screens.forms import Form
from mostrador.web.settings_screens.views import _is_htmx, _page, supervisor_required

TAB = "bot"
Status = UnansweredQuestion.Status
# The newest questions of a status that the list shows.
LIST_LIMIT = 100
GREETING_MAX = 500
TITLE_MAX = 200
# What an action names → the form field that shows its objection.
SETTINGS_FIELDS = {"threshold": "threshold", "greeting": "greeting_es",
                   "languages": "languages", "enabled": "enabled"}
DRAFT_FIELDS = {"title": "title", "body": "body", "language": "language"}
# Why the bot answered or handed over, for the try box (``answer.Decision.reason``).
DECISION_REASONS = {
    "answered": gettext_lazy("An article was close enough to quote"),
    **dict(UnansweredQuestion.Reason.choices),
    "language": gettext_lazy("The message is in a language the bot does not answer in"),
    "empty": gettext_lazy("The message is empty"),
}


def _add_error(form: forms.Form, exc: MostradorError, fields: dict[str, str]) -> None:
    field = fields.get(exc.field or "")
    form.add_error(field if field in form.fields else None, exc.message)


def _default_threshold() -> str:
    return formats.number_format(answer.DEFAULT_THRESHOLD)


# --- forms ----------------------------------------------------------------------------------


class BotSettingsForm(Form):
    """One inbox's bot; the page holds one per inbox, each with the prefix ``bot-<inbox id>``."""

    enabled = forms.BooleanField(label=gettext_lazy("The bot answers on this inbox"),
                                 required=False)
    threshold = forms.FloatField(
        label=gettext_lazy("Confidence threshold"), required=False,
        widget=forms.NumberInput(attrs={"min": "0", "max": "1", "step": "0.05"}))
    greeting_es = forms.CharField(label=gettext_lazy("Greeting in Spanish"), required=False,
                                  max_length=GREETING_MAX,
                                  widget=forms.Textarea(attrs={"rows": 2, "lang": "es"}))
    greeting_en = forms.CharField(label=gettext_lazy("Greeting in English"), required=False,
                                  max_length=GREETING_MAX,
                                  widget=forms.Textarea(attrs={"rows": 2, "lang": "en"}))
    languages = forms.MultipleChoiceField(
        label=gettext_lazy("Languages it answers in"), required=False,
        choices=settings.LANGUAGES, widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every language. A customer who writes in another "
                               "language goes to a person."))

    def __init__(self, *args: Any, inbox: Inbox, **kwargs: Any) -> None:
        super().__init__(*args, prefix=f"bot-{inbox.pk}", **kwargs)
        default = _default_threshold()
        self.fields["threshold"].widget.attrs["placeholder"] = default
        self.fields["threshold"].help_text = _(
            "From 0 to 1; empty: the calibrated default, %(default)s. Higher, the bot hands "
            "over more often and answers fewer questions, but more surely; lower, it answers "
            "more, with articles it is less sure of.") % {"default": default}
        self.fields["greeting_es"].help_text = _(
            "Put before each answer in the customer's language; empty for none.")

    @staticmethod
    def initial_for(row: BotSettings | None) -> dict[str, Any]:
        if row is None:
            return {"enabled": False, "threshold": None, "languages": []}
        greeting = row.greeting or {}
        return {"enabled": row.enabled, "threshold": row.threshold,
                "greeting_es": greeting.get("es", ""), "greeting_en": greeting.get("en", ""),
                "languages": list(row.languages or [])}

    def greeting(self) -> dict[str, str]:
        return {"es": self.cleaned_data["greeting_es"], "en": self.cleaned_data["greeting_en"]}


class TryForm(Form):
    """A customer's message to try the bot of one inbox with (prefix ``try-<inbox id>``)."""

    text = forms.CharField(label=gettext_lazy("A customer writes"),
                           max_length=answer.MAX_QUESTION_CHARS)
    language = forms.ChoiceField(
        label=gettext_lazy("Language"), required=False,
        choices=[("", gettext_lazy("Detect from the text")), *settings.LANGUAGES])

    def __init__(self, *args: Any, inbox: Inbox, **kwargs: Any) -> None:
        super().__init__(*args, prefix=f"try-{inbox.pk}", **kwargs)


class DraftForm(Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=TITLE_MAX)
    body = forms.CharField(label=gettext_lazy("Text"), required=False,
                           widget=forms.Textarea(attrs={"rows": 10}),
                           help_text=gettext_lazy("Optional here: you can write it in the "
                                                  "knowledge base, where the draft opens."))
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=Language.choices)

    @staticmethod
    def initial_for(question: UnansweredQuestion) -> dict[str, Any]:
        title = " ".join(question.text.split())
        if len(title) > TITLE_MAX:
            title = title[:TITLE_MAX - 1].rsplit(" ", 1)[0] + "…"
        language = question.language if question.language in Language.values else ""
        return {"title": title, "body": "", "language": language or Language.SPANISH}


# --- the settings of each inbox -------------------------------------------------------------


@dataclasses.dataclass
class TryResult:
    decision: answer.Decision
    reason: str
    # The article quoted, or the best one found when none was good enough; None: no article.
    article: Article | None
    # As shown: "0.5", or "0,5" in Spanish.
    threshold: str
    language: str
    bot_off: bool


@dataclasses.dataclass
class BotCard:
    inbox: Inbox
    row: BotSettings | None
    form: BotSettingsForm
    try_form: TryForm
    result: TryResult | None = None

    @property
    def threshold(self) -> float:
        if self.row is None or self.row.threshold is None:
            return answer.DEFAULT_THRESHOLD
        return self.row.threshold


def _open_count() -> int:
    return UnansweredQuestion.objects.filter(status=Status.OPEN).count()


def _settings_page(request: HttpRequest, *, form: BotSettingsForm | None = None,
                   tried: tuple[TryForm, TryResult | None] | None = None,
                   inbox: Inbox | None = None) -> HttpResponse:
    """Every inbox's card; ``inbox``'s with the bound ``form`` or ``tried`` form when given."""
    inboxes = list(Inbox.objects.order_by("name", "id"))
    rows = {row.inbox_id: row for row in BotSettings.objects.all()}
    cards = []
    for each in inboxes:
        row = rows.get(each.pk)
        card = BotCard(each, row,
                       BotSettingsForm(inbox=each, initial=BotSettingsForm.initial_for(row)),
                       TryForm(inbox=each))
        if inbox is not None and each.pk == inbox.pk:
            if form is not None:
                card.form = form
            if tried is not None:
                card.try_form, card.result = tried
        cards.append(card)
    return _page(request, "web/settings/bot.html", TAB, cards=cards, open_count=_open_count(),
                 default_threshold=_default_threshold())


def _inbox(pk: int) -> Inbox:
    inbox = Inbox.objects.filter(pk=pk).first()
    if inbox is None:
        raise Http404(_("Inbox %(id)s not found.") % {"id": pk})
    return inbox


@supervisor_required
def overview(request: HttpRequest) -> HttpResponse:
    return _settings_page(request)


@require_POST
@supervisor_required
def inbox_settings(request: HttpRequest, pk: int) -> HttpResponse:
    inbox = _inbox(pk)
    form = BotSettingsForm(request.POST, inbox=inbox)
    if form.is_valid():
        data = form.cleaned_data
        try:
            row = actions.do_update_bot_settings(
                inbox, acting_user=request.user, enabled=data["enabled"],
                threshold=data["threshold"], greeting=form.greeting(),
                languages=data["languages"])
        except MostradorError as exc:
            _add_error(form, exc, SETTINGS_FIELDS)
        else:
            if row.enabled:
                text = _("The answer bot of the inbox %(name)s was saved; it answers new "
                         "conversations from now on.")
            else:
                text = _("The answer bot of the inbox %(name)s was saved; it is off.")
            messages.success(request, text % {"name": inbox.name})
            return redirect(f"{reverse('web:settings_bot')}#bot-inbox-{inbox.pk}")
    return _settings_page(request, form=form, inbox=inbox)


def _try(inbox: Inbox, form: TryForm) -> TryResult | None:
    """What the bot would answer on ``inbox`` with its saved settings (also when it is off)."""
    if not form.is_valid():
        return None
    row = queries.bot_settings(inbox)
    decision = actions.decide_for(row, form.cleaned_data["text"],
                                  language=form.cleaned_data["language"])
    article_id = decision.article_id or decision.best_article_id
    article = (Article.objects.only("pk", "title", "language").filter(pk=article_id).first()
               if article_id else None)
    return TryResult(decision, str(DECISION_REASONS.get(decision.reason, decision.reason)),
                     article,
                     threshold=formats.number_format(
                         answer.DEFAULT_THRESHOLD if row is None or row.threshold is None
                         else row.threshold),
                     language=str(dict(settings.LANGUAGES).get(decision.language,
                                                               decision.language)),
                     bot_off=row is None or not row.enabled)


@require_POST
@supervisor_required
def try_bot(request: HttpRequest, pk: int) -> HttpResponse:
    """Nothing is saved or sent: htmx gets the result alone, a plain request the whole page with
    the result in the inbox's card."""
    inbox = _inbox(pk)
    form = TryForm(request.POST, inbox=inbox)
    result = _try(inbox, form)
    if _is_htmx(request):
        return render(request, "web/settings/_bot_try_result.html",
                      {"try_form": form, "result": result})
    return _settings_page(request, tried=(form, result), inbox=inbox)


# --- unanswered questions -------------------------------------------------------------------


def _question(request: HttpRequest, pk: int) -> UnansweredQuestion:
    try:
        return queries.access_unanswered(request.user, pk)
    except NotFound:
        raise Http404(_("Question %(id)s not found.") % {"id": pk}) from None


def _list_url(status: str) -> str:
    url = reverse("web:settings_bot_unanswered")
    return url if status == Status.OPEN else f"{url}?status={status}"


@supervisor_required
def unanswered_list(request: HttpRequest) -> HttpResponse:
    """Newest first, of one status (open unless ``status`` says another)."""
    status = request.GET.get("status", Status.OPEN)
    if status not in Status.values:
        status = Status.OPEN
    questions = list(queries.unanswered(request.user, status=status, limit=LIST_LIMIT))
    counts = dict(UnansweredQuestion.objects.values_list("status").annotate(n=Count("id"))
                  .values_list("status", "n"))
    languages = dict(settings.LANGUAGES)
    rows = [{"question": q, "language": languages.get(q.language, q.language)}
            for q in questions]
    filters = [{"status": value, "label": label, "count": counts.get(value, 0),
                "url": _list_url(value), "current": value == status}
               for value, label in Status.choices]
    return _page(request, "web/settings/bot_unanswered.html", TAB, rows=rows, status=status,
                 filters=filters, open_count=counts.get(Status.OPEN, 0),
                 limited=len(questions) == LIST_LIMIT, limit=LIST_LIMIT)


@require_POST
@supervisor_required
def unanswered_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Dismiss a question, or open a dismissed one again (``status`` open or dismissed)."""
    question = _question(request, pk)
    status = request.POST.get("status", "")
    back = request.POST.get("back", Status.OPEN)
    if status not in (Status.OPEN, Status.DISMISSED):
        messages.error(request, _("Unknown status %(status)s.") % {"status": status})
    else:
        try:
            actions.do_set_unanswered_status(question, status, acting_user=request.user)
        except MostradorError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The question was dismissed.")
                             if status == Status.DISMISSED else _("The question is open again."))
    return redirect(_list_url(back if back in Status.values else Status.OPEN))


@supervisor_required
def unanswered_draft(request: HttpRequest, pk: int) -> HttpResponse:
    """A draft article for the question; on success, the draft in the knowledge base."""
    question = _question(request, pk)
    if request.method == "POST":
        if question.status == Status.DRAFTED and question.draft_id is not None:
            # Sent twice (a double click, a second tab): the first draft is the one.
            messages.info(request, _("An article was already drafted for this question."))
            return redirect("web:knowledge_article", question.draft_id)
        form = DraftForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                _question_row, article = actions.do_draft_article_from_question(
                    question, acting_user=request.user, title=data["title"], body=data["body"],
                    language=data["language"])
            except MostradorError as exc:
                _add_error(form, exc, DRAFT_FIELDS)
            else:
                messages.success(request, _("The draft “%(title)s” was created; write its "
                                            "text and publish it when it is ready.")
                                 % {"title": article.title})
                return redirect("web:knowledge_article", article.pk)
    else:
        form = DraftForm(initial=DraftForm.initial_for(question))
    return _page(request, "web/settings/bot_draft.html", TAB, form=form, question=question,
                 open_count=_open_count())
