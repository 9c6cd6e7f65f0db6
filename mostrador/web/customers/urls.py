from django.urls import path

from mostrador.web.customers import views

urlpatterns = [
    path("", views.customer_list, name="customers"),
    path("<int:pk>/", views.customer_detail, name="customer"),
    path("<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("<int:pk>/identities/", views.customer_add_identity, name="customer_add_identity"),
    path("<int:pk>/attributes/", views.customer_attributes, name="customer_attributes"),
    path("<int:pk>/conversations/", views.customer_conversations_page,
         name="customer_conversations"),
    path("<int:pk>/timeline/", views.customer_timeline_page, name="customer_timeline"),
    path("<int:pk>/merge/", views.customer_merge, name="customer_merge"),
    path("<int:pk>/merge/<int:other>/", views.customer_merge_confirm,
         name="customer_merge_confirm"),
    path("panel/<int:conversation_pk>/", views.customer_panel, name="customer_panel"),
]
