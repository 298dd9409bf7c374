"""A person's own signatures, one page per identity (linked from Settings, "Sender addresses")."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.http import SignedInRequest
from accounts.models import Identity
from outbox.forms import SignatureForm


@login_required
def edit(request: SignedInRequest, identity_id: int) -> HttpResponse:
    identity = get_object_or_404(Identity, pk=identity_id, user=request.user)
    form = SignatureForm(request.POST or None, instance=identity)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("Signature saved for %(address)s.") % {"address": identity.address})
            return redirect("accounts:settings")
        return render(request, "outbox/signature.html", {"form": form, "identity": identity}, status=400)
    return render(request, "outbox/signature.html", {"form": form, "identity": identity})
