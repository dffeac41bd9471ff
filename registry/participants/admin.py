"""Admin for participants: list, search and filter; creation through `participant_create` (so
every participant gets its DID and key); "rotate key" and "deactivate DID" actions through the
participant services (audited). Existing participants are read-only here. For registry
administrators (or users with the participant model permissions)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from identity.admin_mixins import AddFormMixin, NoSaveOnChangeMixin
from identity.errors import IdentityError
from registry.trust.admin_mixins import RegistryAdminsMixin

from .models import Participant
from .services import (
    ParticipantError,
    participant_clean,
    participant_create,
    participant_deactivate,
    participant_key_rotate,
)


class ParticipantCreationForm(forms.ModelForm):
    class Meta:
        model = Participant
        fields = ("kind", "display_name", "country", "st3_code", "user")
        help_texts = {
            "country": "Two-letter WIPO ST.3 code (FR, DE, EP, WO ...).",
            "st3_code": "Offices only: the office's own ST.3 code; it names its DID.",
        }

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data.update(
                participant_clean(
                    kind=data.get("kind"),
                    display_name=data.get("display_name"),
                    country=data.get("country"),
                    st3_code=data.get("st3_code"),
                )
            )
        except ParticipantError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data


class DeactivationFilter(admin.SimpleListFilter):
    title = "DID status"
    parameter_name = "did_status"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("deactivated", "deactivated")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(did__deactivated_at__isnull=True)
        if self.value() == "deactivated":
            return queryset.filter(did__deactivated_at__isnull=False)
        return queryset


@admin.register(Participant)
class ParticipantAdmin(RegistryAdminsMixin, AddFormMixin, NoSaveOnChangeMixin, admin.ModelAdmin):
    list_display = ("display_name", "kind", "st3_code", "country", "did_link", "created_at")
    list_filter = ("kind", DeactivationFilter, "country")
    search_fields = ("display_name", "st3_code", "did__did")
    list_select_related = ("did", "user")
    ordering = ("kind", "display_name")
    actions = ("rotate_key", "deactivate_did")
    readonly_fields = (
        "kind", "display_name", "country", "st3_code", "did_link", "user", "created_at",
    )  # fmt: skip
    add_form = ParticipantCreationForm
    add_fields = ParticipantCreationForm.Meta.fields
    # "change": the rotate and deactivate actions; no field is editable on a participant's page.
    admin_role_rights = ("view", "add", "change")

    def has_delete_permission(self, request, obj=None) -> bool:
        # A DID is for life: deactivate it instead.
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing on a participant is edited here
        data = form.cleaned_data
        created = participant_create(
            kind=data["kind"],
            display_name=data["display_name"],
            country=data["country"],
            st3_code=data.get("st3_code"),
            user=data.get("user"),
            actor=request.user,
        )
        # The admin goes on with `obj` (the message, the redirect): make it the created row.
        obj.pk, obj.did, obj.created_at = created.pk, created.did, created.created_at
        obj.display_name, obj.country, obj.st3_code = (
            created.display_name,
            created.country,
            created.st3_code,
        )
        obj._state.adding = False

    @admin.display(description="DID", ordering="did__did")
    def did_link(self, obj: Participant) -> str:
        url = reverse("admin:identity_did_change", args=[obj.did_id])
        suffix = " (deactivated)" if obj.did.is_deactivated else ""
        return format_html('<a href="{}"><code>{}</code></a>{}', url, obj.did.did, suffix)

    # permissions: without them Django offers an action to anyone who may view the list.
    @admin.action(
        description="Rotate the key of the selected participants' DIDs", permissions=["change"]
    )
    def rotate_key(self, request, queryset: QuerySet[Participant]):
        done = 0
        for participant in queryset.select_related("did"):
            try:
                key = participant_key_rotate(
                    participant=participant, actor=request.user, request=request
                )
            except IdentityError as exc:
                self.message_user(request, f"{participant}: {exc}", messages.ERROR)
            else:
                done += 1
                self.message_user(request, f"{participant}: new key {key.fragment}")
        if done:
            self.message_user(request, f"Rotated {done} key(s).", messages.SUCCESS)

    @admin.action(
        description="Deactivate the selected participants' DIDs (irreversible)",
        permissions=["change"],
    )
    def deactivate_did(self, request, queryset: QuerySet[Participant]):
        participants = list(queryset.select_related("did"))
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "admin/participants/participant/deactivate_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "participants": participants,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "title": "Deactivate DIDs",
                },
            )
        done = 0
        for participant in participants:
            try:
                participant_deactivate(participant=participant, actor=request.user, request=request)
            except IdentityError as exc:
                self.message_user(request, f"{participant}: {exc}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"Deactivated {done} DID(s).", messages.SUCCESS)
        return None
