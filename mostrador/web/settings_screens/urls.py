from django.urls import path

from mostrador.web.settings_screens import sla, views

urlpatterns = [
    path("", views.inbox_list, name="settings"),
    path("inboxes/new/", views.inbox_new, name="settings_inbox_new"),
    path("inboxes/test/", views.inbox_test, name="settings_inbox_test"),
    path("inboxes/<int:pk>/", views.inbox_edit, name="settings_inbox"),
    path("inboxes/<int:pk>/test/", views.inbox_test, name="settings_inbox_test_saved"),
    path("users/", views.user_list, name="settings_users"),
    path("users/new/", views.user_new, name="settings_user_new"),
    path("users/<int:pk>/", views.user_edit, name="settings_user"),
    path("users/<int:pk>/deactivate/", views.user_deactivate, name="settings_user_deactivate"),
    path("users/<int:pk>/reactivate/", views.user_reactivate, name="settings_user_reactivate"),
    path("teams/", views.team_list, name="settings_teams"),
    path("teams/new/", views.team_new, name="settings_team_new"),
    path("teams/<int:pk>/", views.team_edit, name="settings_team"),
    path("sla/", sla.overview, name="settings_sla"),
    path("sla/holidays/", sla.holidays_preview, name="settings_sla_holidays"),
    path("sla/calendars/new/", sla.calendar_new, name="settings_calendar_new"),
    path("sla/calendars/<int:pk>/", sla.calendar_edit, name="settings_calendar"),
    path("sla/calendars/<int:pk>/days/", sla.calendar_day_add, name="settings_calendar_day_add"),
    path("sla/calendars/<int:pk>/days/<str:day>/remove/", sla.calendar_day_remove,
         name="settings_calendar_day_remove"),
    path("sla/policies/new/", sla.policy_new, name="settings_policy_new"),
    path("sla/policies/<int:pk>/", sla.policy_edit, name="settings_policy"),
    path("sla/policies/<int:pk>/move/", sla.policy_move, name="settings_policy_move"),
    path("sla/policies/<int:pk>/delete/", sla.policy_delete, name="settings_policy_delete"),
]
