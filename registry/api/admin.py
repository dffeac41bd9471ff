"""API keys in the admin: registry administrators see all, office administrators their office's.
Adding a key goes through `api_key_create` and shows the key once, on the page that answers the
form; revoke and rotate are actions (rotate answers with the new keys the same way). Never in a
message: messages wait in a cookie (or the session) for the next page. Secrets are never
displayed afterwards (only the hash is stored)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render

from identity.admin_mixins import AddFormMixin, SecretFieldsAdminMixin
from registry.trust.admin_mixins import (
    OfficeAdminsMixin,
    refusal_text,
)

from .models import API_KEY_SCOPES, ApiKey
from .services import api_key_create, api_key_revoke, api_key_rotate


class ApiKeyAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(s, s) for s in API_KEY_SCOPES], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiKey
        fields = ["office", "name", "scopes", "expires_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(SecretFieldsAdminMixin, AddFormMixin, OfficeAdminsMixin, admin.ModelAdmin):
    secret_fields = ("secret_hash",)
    list_display = (
        "prefix", "office", "name", "scope_list", "created_at", "expires_at", "last_used_at",
        "revoked_at",
    )  # fmt: skip
    # Only the offices of the rows shown: a plain "office" filter lists every participant.
    list_filter = (
        ("office", admin.RelatedOnlyFieldListFilter),
        ("revoked_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("prefix", "name", "office__st3_code")
    actions = ["revoke", "rotate"]
    readonly_fields = (
        "office", "name", "prefix", "scopes", "created_at", "created_by", "expires_at",
        "last_used_at", "revoked_at", "rotated_from",
    )  # fmt: skip
    add_form = ApiKeyAddForm
    add_fields = ApiKeyAddForm.Meta.fields

    @admin.display(description="scopes")
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("office")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            created, key = api_key_create(
                office=data["office"],
                scopes=data["scopes"],
                name=data.get("name", ""),
                expires_at=data.get("expires_at"),
                actor=request.user,
                request=request,
            )
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, f"Not created: {refusal_text(exc)}", messages.ERROR)
            return
        obj.pk = created.pk
        obj.prefix = created.prefix
        request._new_api_keys = [(created, key)]

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_new_api_keys", None):
            return _keys_shown(self, request, request._new_api_keys)
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description="Revoke at once")
    def revoke(self, request, queryset):
        revoked = []
        for api_key in queryset:
            try:
                api_key_revoke(api_key=api_key, actor=request.user, request=request)
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"{api_key.prefix}: {refusal_text(exc)}", messages.ERROR)
            else:
                revoked.append(api_key.prefix)
        if revoked:  # only those: a refused key must not read as revoked
            self.message_user(request, f"Revoked: {', '.join(revoked)}.", messages.SUCCESS)

    @admin.action(description="Rotate (revoke and replace; new keys shown once)")
    def rotate(self, request, queryset):
        shown = []
        for api_key in queryset:
            try:
                shown.append(api_key_rotate(api_key=api_key, actor=request.user, request=request))
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{api_key.prefix}: {refusal_text(exc)}", messages.ERROR)
        return _keys_shown(self, request, shown) if shown else None


def _keys_shown(model_admin, request, keys):
    """The page that shows new keys, once: not cached, not carried to another request."""
    response = render(
        request,
        "admin/api/keys_shown.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": "New API keys",
            "keys": keys,
            "opts": model_admin.model._meta,
        },
    )
    response["Cache-Control"] = "no-store"
    return response
