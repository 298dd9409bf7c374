from django.urls import path
from django.views.i18n import JavaScriptCatalog

from outbox import compose_views, draft_views, recipients, signature_views, views

app_name = "outbox"

urlpatterns = [
    path("", views.outbox_list, name="list"),
    path("compose/", compose_views.compose_view, name="compose"),
    path("drafts/", draft_views.drafts_list, name="drafts"),
    path("drafts/<uuid:draft_id>/save/", draft_views.save, name="draft_save"),
    path("drafts/<uuid:draft_id>/attachments/", draft_views.upload, name="draft_upload"),
    path(
        "drafts/<uuid:draft_id>/attachments/<uuid:attachment_id>/remove/",
        draft_views.remove_attachment,
        name="draft_remove_attachment",
    ),
    path("drafts/<uuid:draft_id>/discard/", draft_views.discard, name="draft_discard"),
    path("drafts/<uuid:draft_id>/restore/", draft_views.restore, name="draft_restore"),
    path("drafts/open/<int:folder_id>/<int:uid>/", draft_views.open_from_folder, name="draft_open"),
    path("compose/recipients/", recipients.suggestions, name="recipients"),
    path("compose/strings.js", JavaScriptCatalog.as_view(packages=["outbox"]), name="jsi18n"),
    path("compose/signatures/<int:identity_id>/", signature_views.edit, name="signature"),
    path("<uuid:message_id>/", views.detail, name="detail"),
    path("<uuid:message_id>/cancel/", views.cancel, name="cancel"),
    path("<uuid:message_id>/retry/", views.retry_now, name="retry_now"),
    path("<uuid:message_id>/resend/", views.resend, name="resend"),
]
