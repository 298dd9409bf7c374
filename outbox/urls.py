from django.urls import path

from outbox import signature_views, views

app_name = "outbox"

urlpatterns = [
    path("", views.outbox_list, name="list"),
    path("compose/", views.compose_view, name="compose"),
    path("compose/signatures/<int:identity_id>/", signature_views.edit, name="signature"),
    path("<uuid:message_id>/", views.detail, name="detail"),
    path("<uuid:message_id>/cancel/", views.cancel, name="cancel"),
    path("<uuid:message_id>/retry/", views.retry_now, name="retry_now"),
    path("<uuid:message_id>/resend/", views.resend, name="resend"),
]
