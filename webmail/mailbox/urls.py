"""The mailbox, mounted by webmail/urls.py at "mail/" with namespace "mailbox"."""

from django.urls import path

from webmail.mailbox.views import folders, lists, live, reading, source, tools

app_name = "mailbox"

urlpatterns = [
    path("", lists.index, name="index"),
    path("live/", live.stream, name="live"),
    path("live/state/", live.state, name="live_state"),
    path("account/<uuid:account_id>/", lists.account_inbox, name="account"),
    path("account/<uuid:account_id>/folders/", folders.manage_folders, name="folders"),
    path("account/<uuid:account_id>/folders/create/", folders.folder_create, name="folder_create"),
    path("<int:folder_id>/", lists.folder_view, name="folder"),
    path("<int:folder_id>/actions/", lists.bulk, name="bulk"),
    path("<int:folder_id>/search/", lists.search, name="search"),
    path("<int:folder_id>/search/actions/", lists.search_bulk, name="search_bulk"),
    path("<int:folder_id>/rename/", folders.folder_rename, name="folder_rename"),
    path("<int:folder_id>/delete/", folders.folder_delete, name="folder_delete"),
    path("<int:folder_id>/empty/", tools.empty, name="empty"),
    path("<int:folder_id>/read-all/", tools.mark_all_read, name="mark_all_read"),
    path("<int:folder_id>/thread/<int:summary_id>/", lists.thread, name="thread"),
    path("<int:folder_id>/thread/<int:summary_id>/print/", source.print_thread, name="print_thread"),
    path("<int:folder_id>/<int:uid>/", reading.message_view, name="message"),
    path("<int:folder_id>/<int:uid>/body/", reading.message_body, name="body"),
    path("<int:folder_id>/<int:uid>/source/", source.source, name="source"),
    path("<int:folder_id>/<int:uid>/download/", source.download, name="download"),
    path("<int:folder_id>/<int:uid>/print/", source.print_message, name="print"),
    path("<int:folder_id>/<int:uid>/part/<int:index>/", reading.part, name="part"),
    path("<int:folder_id>/<int:uid>/cid/<path:content_id>/", reading.cid, name="cid"),
    path("<int:folder_id>/<int:uid>/images/always/", reading.images_always, name="images_always"),
    path("images/forget/", reading.images_forget, name="images_forget"),
]
