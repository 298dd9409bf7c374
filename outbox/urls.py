from django.urls import path
from django.views.i18n import JavaScriptCatalog

from outbox import recipients, views

app_name = "outbox"

urlpatterns = [
    path("", views.outbox_list, name="list"),
    path("compose/", views.compose_view, name="compose"),
    path("compose/recipients/", recipients.suggestions, name="recipients"),
    path("compose/strings.js", JavaScriptCatalog.as_view(packages=["outbox"]), name="jsi18n"),
    path("<uuid:message_id>/", views.detail, name="detail"),
    path("<uuid:message_id>/cancel/", views.cancel, name="cancel"),
    path("<uuid:message_id>/retry/", views.retry_now, name="retry_now"),
    path("<uuid:message_id>/resend/", views.resend, name="resend"),
]
