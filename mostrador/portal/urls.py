"""The public help center under /help/: one tree per language (``/help/es/…``, ``/help/en/…``);
names live in the ``portal`` namespace."""

from django.urls import path, register_converter

from mostrador.portal import ask, views


class LanguageConverter:
    regex = "es|en"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(LanguageConverter, "lang")

app_name = "portal"

urlpatterns = [
    path("", views.choose_language, name="root"),
    path("sitemap.xml", views.sitemap, name="sitemap"),
    path("<lang:lang>/", views.home, name="home"),
    path("<lang:lang>/c/<slug:slug>/", views.category, name="category"),
    path("<lang:lang>/a/<int:pk>-<slug:slug>/", views.article, name="article"),
    path("<lang:lang>/a/<int:pk>/", views.article, name="article_by_id"),
    path("<lang:lang>/a/<int:pk>/feedback/", views.feedback, name="feedback"),
    path("<lang:lang>/search", views.search, name="search"),
    path("<lang:lang>/suggest", views.suggest, name="suggest"),
    path("<lang:lang>/request/", views.request_form, name="request"),
    path("<lang:lang>/request/thanks/", views.request_thanks, name="thanks"),
    path("<lang:lang>/go/<str:visit>/<int:pk>/", views.open_suggestion, name="open_suggestion"),
    path("<lang:lang>/ask/", ask.ask, name="ask"),
    path("<lang:lang>/ask/feedback/", ask.ask_feedback, name="ask_feedback"),
    path("<lang:lang>/ask/person/", ask.ask_person, name="ask_person"),
    path("<lang:lang>/ask/handover/", ask.ask_handover, name="ask_handover"),
    path("<lang:lang>/ask/restart/", ask.ask_restart, name="ask_restart"),
]
