"""Administration screens in the portal's look: the trust registry and office administration
(issue 5). They call the trust app's services; the Django admin stays available for the rest."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from . import selectors


@login_required
def admin_home(request):
    if not selectors.is_registry_admin(request.user):
        raise Http404("This page is for registry administrators.")
    from registry.trust.models import IssuerAccreditation

    accreditations = IssuerAccreditation.objects.select_related("office").order_by(
        "office__st3_code", "-granted_at"
    )[:200]
    return render(request, "portal/admin_home.html", {"accreditations": accreditations})
