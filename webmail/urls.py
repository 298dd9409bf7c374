from django.contrib import admin
from django.urls import include, path

from webmail import site
from webmail.mailbox.views import lists

mailbox_patterns = [
    path("", lists.home, name="home"),
]

urlpatterns = [
    path("", include((mailbox_patterns, "webmail"))),
    path("accounts/", include("accounts.urls")),
    path("outbox/", include("outbox.urls")),
    path("mail/", include("webmail.mailbox.urls", namespace="mailbox")),
    path("admin/", admin.site.urls),
    path("healthz", site.healthz, name="healthz"),
    path("favicon.ico", site.favicon),
]
