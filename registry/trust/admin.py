"""Admin screens for the trust registry. Every write goes through the services (which check the
acting user and audit); these classes only collect input and show results.

- Accreditations: registry administrators grant root accreditations; office administrators see
  and manage the ones granted below their office. Actions: suspend, reinstate, withdraw.
- Office memberships: registry administrators (all), office administrators (their office).
- Issuer signing keys: rotate an office's key; mark a key compromised from a given time.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import render
from django.utils import timezone

from identity.admin_mixins import AddFormMixin
from identity.errors import IdentityError
from registry.participants.models import Participant

from .admin_mixins import OfficeAdminsMixin, admin_offices, refusal_text
from .models import IssuerAccreditation, IssuerSigningKeys, OfficeMembership
from .roles import is_registry_admin
from .services import (
    accreditation_grant,
    accreditation_reinstate,
    accreditation_suspend,
    accreditation_withdraw,
    issuer_key_mark_compromised,
    office_member_add,
    office_member_remove,
    office_signing_key_rotate,
)


def _run(modeladmin, request, queryset, action, label: str, **kwargs):
    done = 0
    for obj in queryset:
        try:
            action(actor=request.user, request=request, **{**kwargs, **_target(obj)})
            done += 1
        except (PermissionDenied, ValidationError, IdentityError) as exc:
            # IdentityError: the DID engine's refusals (a deactivated office's key rotation).
            modeladmin.message_user(request, f"{obj}: {refusal_text(exc)}", messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{label}: {done}.", messages.SUCCESS)


def _target(obj):
    return {"accreditation": obj} if isinstance(obj, IssuerAccreditation) else {"office": obj}


class AccreditationAddForm(forms.ModelForm):
    credential_types = forms.CharField(
        help_text="Comma separated, e.g. IPApplicantCredential,IPRepresentativeCredential"
    )
    valid_from = forms.SplitDateTimeField(
        required=False,
        widget=admin.widgets.AdminSplitDateTime,
        help_text="Empty: now (or the parent's start, if later).",
    )

    class Meta:
        model = IssuerAccreditation
        fields = ["office", "credential_types", "valid_from", "valid_until", "parent"]

    def clean_credential_types(self):
        return [t.strip() for t in self.cleaned_data["credential_types"].split(",") if t.strip()]


@admin.register(IssuerAccreditation)
class IssuerAccreditationAdmin(AddFormMixin, OfficeAdminsMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "office",
        "types",
        "valid_from",
        "valid_until",
        "parent",
        "depth",
        "state_now",
    )
    list_filter = ("depth", "office__kind")
    search_fields = ("office__display_name", "office__st3_code", "office__did__did")
    actions = ["suspend", "reinstate", "withdraw"]
    readonly_fields = (
        "office",
        "credential_types",
        "valid_from",
        "valid_until",
        "parent",
        "depth",
        "granted_by",
        "granted_at",
        "suspended_at",
        "past_suspensions",
        "withdrawn_at",
        "end_reason",
        "credential_id",
    )
    add_form = AccreditationAddForm
    add_fields = AccreditationAddForm.Meta.fields

    @admin.display(description="types")
    def types(self, obj):
        return ", ".join(obj.credential_types)

    @admin.display(description="state now")
    def state_now(self, obj):
        from .services import accreditation_state

        return accreditation_state(obj, timezone.now())

    office_lookup = "parent__office"  # office administrators see what their office granted

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("office", "parent__office")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "office":
            kwargs["queryset"] = Participant.objects.exclude(kind=Participant.Kind.APPLICANT)
        if db_field.name == "parent" and not is_registry_admin(request.user):
            kwargs["queryset"] = IssuerAccreditation.objects.filter(
                office__in=admin_offices(request)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            with transaction.atomic():
                created = accreditation_grant(
                    office=data["office"],
                    credential_types=data["credential_types"],
                    valid_from=data.get("valid_from"),
                    valid_until=data.get("valid_until"),
                    parent=data.get("parent"),
                    actor=request.user,
                    request=request,
                )
        except (ValidationError, PermissionDenied) as exc:
            # Raised after the form was valid: report it, create nothing.
            self.message_user(request, f"Not granted: {refusal_text(exc)}", messages.ERROR)
            obj.pk = None
            return
        obj.pk = created.pk
        obj.__dict__.update(created.__dict__)

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:
            from django.http import HttpResponseRedirect

            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description="Suspend (new issuance refused at once)")
    def suspend(self, request, queryset):
        _run(self, request, queryset, accreditation_suspend, "Suspended", reason="admin")

    @admin.action(description="Reinstate (end the suspension)")
    def reinstate(self, request, queryset):
        _run(self, request, queryset, accreditation_reinstate, "Reinstated")

    @admin.action(description="Withdraw for good (with the chain below)")
    def withdraw(self, request, queryset):
        _run(self, request, queryset, accreditation_withdraw, "Withdrawn", reason="admin")


class MembershipForm(forms.ModelForm):
    # A username, as in the API, not a list of every account in the registry: office
    # administrators use this form too.
    user = forms.CharField(label="Username", max_length=150)

    class Meta:
        model = OfficeMembership
        fields = ["user", "office", "role"]

    def clean_user(self):
        username = self.cleaned_data["user"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError("No account has this username.")
        return user


@admin.register(OfficeMembership)
class OfficeMembershipAdmin(OfficeAdminsMixin, admin.ModelAdmin):
    list_display = ("user", "office", "role", "created_at")
    # Only the offices of the rows shown: a plain "office" filter lists every participant.
    list_filter = ("role", ("office", admin.RelatedOnlyFieldListFilter))
    search_fields = ("user__username", "office__st3_code")
    form = MembershipForm
    actions = ["remove_members"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "office")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            saved = office_member_add(
                actor=request.user,
                office=data["office"],
                user=data["user"],
                role=data["role"],
                request=request,
            )
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, f"Not added: {refusal_text(exc)}", messages.ERROR)
            return
        obj.pk = saved.pk
        obj.created_at = saved.created_at

    @admin.action(description="Remove from the office")
    def remove_members(self, request, queryset):
        removed = 0
        for membership in queryset.select_related("office", "user"):
            try:
                office_member_remove(
                    actor=request.user,
                    office=membership.office,
                    user=membership.user,
                    request=request,
                )
                removed += 1
            except PermissionDenied as exc:
                self.message_user(request, f"{membership}: {exc}", messages.ERROR)
        if removed:
            self.message_user(request, f"Removed: {removed}.", messages.SUCCESS)


class CompromiseForm(forms.Form):
    did_key = forms.ChoiceField(label="Key")
    since = forms.DateTimeField(
        label="Compromised since (UTC)",
        help_text="Proofs made with this key after this time stop verifying.",
    )


@admin.register(IssuerSigningKeys)
class IssuerSigningKeysAdmin(OfficeAdminsMixin, admin.ModelAdmin):
    """Offices, with their signing keys: rotate, or mark a key compromised."""

    list_display = ("display_name", "st3_code", "did_value", "current_key", "keys_history")
    search_fields = ("display_name", "st3_code")
    actions = ["rotate_signing_key", "mark_key_compromised"]

    @admin.display(description="DID")
    def did_value(self, obj):
        return obj.did.did

    @admin.display(description="current key")
    def current_key(self, obj):
        key = obj.did.keys.filter(retired_at__isnull=True).order_by("-number").first()
        return f"#{key.fragment} {key.did_key[:24]}…" if key else "-"

    @admin.display(description="keys (compromised)")
    def keys_history(self, obj):
        keys = obj.did.keys.order_by("number")
        return ", ".join(
            f"#{k.fragment}"
            + (f" (compromised {k.compromised_at:%Y-%m-%d %H:%M})" if k.compromised_at else "")
            for k in keys
        )

    office_lookup = "pk"  # the rows are the offices themselves

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(kind=Participant.Kind.OFFICE).select_related("did")
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # offices are added as participants

    @admin.action(description="Rotate the signing key")
    def rotate_signing_key(self, request, queryset):
        _run(self, request, queryset, office_signing_key_rotate, "Rotated")

    @admin.action(description="Mark a key compromised from a given time…")
    def mark_key_compromised(self, request, queryset):
        offices = list(queryset)
        choices = [
            (k.did_key, f"{o.st3_code} #{k.fragment} {k.did_key[:32]}…")
            for o in offices
            for k in o.did.keys.order_by("number")
        ]
        form = CompromiseForm(request.POST if "confirm" in request.POST else None)
        form.fields["did_key"].choices = choices
        if "confirm" in request.POST and form.is_valid():
            since = form.cleaned_data["since"]
            try:
                issuer_key_mark_compromised(
                    actor=request.user,
                    did_key=form.cleaned_data["did_key"],
                    since=since,
                    request=request,
                )
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"Not marked: {refusal_text(exc)}", messages.ERROR)
                return None
            self.message_user(
                request, f"Key marked compromised since {since.isoformat()}.", messages.SUCCESS
            )
            return None
        return render(
            request,
            "admin/trust/compromise_key.html",
            {
                **self.admin_site.each_context(request),
                "title": "Mark a signing key compromised",
                "form": form,
                "queryset": offices,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )
