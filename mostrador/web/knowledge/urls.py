from django.urls import path

from mostrador.web.knowledge import views

urlpatterns = [
    path("", views.article_list, name="knowledge"),
    path("new/", views.article_new, name="knowledge_new"),
    path("<int:pk>/", views.article_edit, name="knowledge_article"),
    path("<int:pk>/<str:transition>/", views.article_transition,
         name="knowledge_transition"),
]
