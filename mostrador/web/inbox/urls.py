from django.urls import path

from mostrador.web.inbox import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("inbox/bulk/", views.bulk, name="inbox_bulk"),
    path("inbox/views/", views.save_view, name="inbox_view_save"),
    path("inbox/views/<int:pk>/delete/", views.delete_view, name="inbox_view_delete"),
    path("inbox/read/<int:pk>/", views.mark_read, name="inbox_mark_read"),
]
