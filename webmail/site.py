"""The site's own pages, outside the mailbox: the health check and the favicon."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from accounts.middleware import second_factor_exempt


@second_factor_exempt
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and monitors: the process is up and the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok\n", content_type="text/plain")


@second_factor_exempt
def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask for /favicon.ico on pages (like the admin's) that do not name an icon.
    return redirect(static("favicon.svg"), permanent=True)
