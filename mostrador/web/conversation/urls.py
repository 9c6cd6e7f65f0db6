from django.urls import path

from mostrador.web.conversation import canned, knowledge, routing_views, views

urlpatterns = [
    path("<int:pk>/", views.conversation_page, name="conversation"),
    path("<int:pk>/timeline/", views.timeline_chunk, name="conversation_timeline"),
    path("<int:pk>/reply/", views.reply, name="conversation_reply"),
    path("<int:pk>/note/", views.note, name="conversation_note"),
    path("<int:pk>/set/<str:field>/", views.set_property, name="conversation_set"),
    path("<int:pk>/tags/", views.tags, name="conversation_tags"),
    path("<int:pk>/fields/", views.custom_fields, name="conversation_fields"),
    path("<int:pk>/merge/", views.merge, name="conversation_merge"),
    path("<int:pk>/messages/<int:message_id>/split/", views.split, name="conversation_split"),
    path("<int:pk>/messages/<int:message_id>/retry/", views.retry, name="conversation_retry"),
    path("<int:pk>/next/", views.neighbour, {"direction": "next"}, name="conversation_next"),
    path("<int:pk>/previous/", views.neighbour, {"direction": "previous"},
         name="conversation_previous"),
    path("<int:pk>/canned-replies/", canned.canned_list, name="conversation_canned"),
    path("<int:pk>/canned-replies/<int:reply_id>/render/", canned.canned_render,
         name="conversation_canned_render"),
    path("<int:pk>/knowledge/", knowledge.knowledge_search, name="conversation_knowledge"),
    path("<int:pk>/knowledge/<int:article_id>/", knowledge.knowledge_insert,
         name="conversation_knowledge_insert"),
    path("<int:pk>/messages/<int:message_id>/article/", knowledge.reply_to_article,
         name="conversation_reply_article"),
    path("<int:pk>/routing/", routing_views.routing_panel, name="conversation_routing"),
    path("<int:pk>/escalate/", routing_views.escalate, name="conversation_escalate"),
    path("<int:pk>/deescalate/", routing_views.deescalate, name="conversation_deescalate"),
    path("<int:pk>/transfer/", routing_views.transfer, name="conversation_transfer"),
    path("<int:pk>/macro/", routing_views.apply_macro, name="conversation_macro"),
    path("attachments/<int:attachment_id>/", views.attachment, name="attachment"),
]
