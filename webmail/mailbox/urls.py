"""The mailbox, mounted by webmail/urls.py at "mail/" with namespace "mailbox"."""

from django.urls import path

from webmail.mailbox import views

app_name = "mailbox"

urlpatterns = [
    path("", views.index, name="index"),
    path("account/<uuid:account_id>/", views.account_inbox, name="account"),
    path("account/<uuid:account_id>/folders/", views.manage_folders, name="folders"),
    path("account/<uuid:account_id>/folders/create/", views.folder_create, name="folder_create"),
    path("<int:folder_id>/", views.folder_view, name="folder"),
    path("<int:folder_id>/actions/", views.bulk, name="bulk"),
    path("<int:folder_id>/search/", views.search, name="search"),
    path("<int:folder_id>/rename/", views.folder_rename, name="folder_rename"),
    path("<int:folder_id>/delete/", views.folder_delete, name="folder_delete"),
    path("<int:folder_id>/thread/<int:summary_id>/", views.thread, name="thread"),
    path("<int:folder_id>/<int:uid>/", views.message_view, name="message"),
    path("<int:folder_id>/<int:uid>/body/", views.message_body, name="body"),
    path("<int:folder_id>/<int:uid>/part/<int:index>/", views.part, name="part"),
    path("<int:folder_id>/<int:uid>/cid/<path:content_id>/", views.cid, name="cid"),
    path("<int:folder_id>/<int:uid>/images/always/", views.images_always, name="images_always"),
    path("images/forget/", views.images_forget, name="images_forget"),
]
