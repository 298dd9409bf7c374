from django.contrib import admin
from django.urls import include, path

from webmail.mailbox import views

mailbox_patterns = [
    path("", views.home, name="home"),
]

urlpatterns = [
    path("", include((mailbox_patterns, "webmail"))),
    path("accounts/", include("accounts.urls")),
    path("outbox/", include("outbox.urls")),
    path("mail/", include("webmail.mailbox.urls", namespace="mailbox")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
]
