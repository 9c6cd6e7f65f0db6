"""Forms of the knowledge base screens. They turn what an agent typed into the arguments of the
knowledge base's actions, which check titles, languages, places and rights."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mostrador.knowledge.models import Article, Category, Language, Section

# What an action names → the form field that shows its objection.
ACTION_FIELDS = {"title": "title", "body": "body", "language": "language",
                 "category": "place", "section": "place", "visibility": "visibility"}


class Form(forms.Form):
    """Labels without a trailing colon, as on the other screens."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def place_choices(categories: list[Category], language: str) -> list[Any]:
    """``c<id>`` for a category, ``s<id>`` for a section of it, grouped by category."""
    choices: list[Any] = [("", _("None"))]
    for category in categories:
        name = category.name_in(language)
        group = [(f"c{category.pk}", _("%(category)s (no section)") % {"category": name})]
        group += [(f"s{section.pk}", f"{name} › {section.name}")
                  for section in category.sections.all()]
        choices.append((name, group))
    return choices


class ArticleForm(Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    body = forms.CharField(
        label=_("Text (HTML)"), required=False, strip=True,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "true"}),
        help_text=_("HTML: paragraphs, headings, lists, tables, links and images from "
                    "https: addresses; scripts, styles and forms are removed on saving. Text "
                    "without HTML tags is read as paragraphs separated by blank lines."))
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    place = forms.ChoiceField(label=_("Category and section"), required=False, choices=[])
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Article.Visibility.choices,
                                   widget=forms.RadioSelect)
    note = forms.CharField(label=_("What changed (optional)"), max_length=300, required=False,
                           help_text=_("Kept with the new version."))

    def __init__(self, *args: Any, categories: list[Category], language: str,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.categories = categories
        self.fields["place"].choices = place_choices(categories, language)

    @staticmethod
    def initial_for(article: Article) -> dict[str, Any]:
        place = (f"s{article.section_id}" if article.section_id
                 else f"c{article.category_id}" if article.category_id else "")
        return {"title": article.title, "body": article.body_html,
                "language": article.language, "place": place,
                "visibility": article.visibility}

    def category_and_section(self) -> tuple[Category | None, Section | None]:
        value = self.cleaned_data.get("place") or ""
        for category in self.categories:
            if value == f"c{category.pk}":
                return category, None
            for section in category.sections.all():
                if value == f"s{section.pk}":
                    return category, section
        return None, None

    def add_action_error(self, error: Any) -> None:
        field = ACTION_FIELDS.get(error.field or "")
        self.add_error(field if field in self.fields else None, error.message)


class FilterForm(Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    language = forms.ChoiceField(label=_("Language"), required=False,
                                 choices=[("", _("All languages")), *Language.choices])
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All statuses")), *Article.Status.choices])
    visibility = forms.ChoiceField(label=_("Visibility"), required=False,
                                   choices=[("", _("Public and internal")),
                                            *Article.Visibility.choices])
