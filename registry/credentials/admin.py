"""Admin for issued credentials: read-only records, and an "add" form that issues through
`credential_issue_idempotent` (the service behind the API's Idempotency-Key): each rendering of
the form carries a new key, so that submitting it twice (a double click, the browser's re-POST)
issues one credential. For registry administrators. Challenges are not shown."""

from __future__ import annotations

import json
import secrets

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from identity.admin_mixins import AddFormMixin, NoSaveOnChangeMixin
from registry.api.errors import ApiError
from registry.participants.models import Participant
from registry.trust.admin_mixins import RegistryAdminsMixin

from .context import CREDENTIAL_TYPES
from .errors import IdempotencyKeyReused
from .models import IssuedCredential
from .services import (
    ACCREDITATION_TYPE,
    IDEMPOTENCY_KEY_MAX_LENGTH,
    credential_issue_idempotent,
    issue_request_sha256,
)


def new_idempotency_key() -> str:
    """A key for one rendering of the issue form (called by Django each time it renders)."""
    return f"admin-{secrets.token_urlsafe(24)}"


class IssueCredentialForm(forms.ModelForm):
    issuing_participant = forms.ModelChoiceField(
        queryset=Participant.objects.filter(
            kind__in=[Participant.Kind.OFFICE, Participant.Kind.APPLICANT]
        ).select_related("did"),
        label="Issuer",
        help_text="An accredited office; or, for a mandate, the applicant.",
    )
    type = forms.ChoiceField(
        choices=[(t, t) for t in CREDENTIAL_TYPES if t != ACCREDITATION_TYPE],
        help_text="Accreditation credentials are issued when an accreditation is granted.",
    )
    subject = forms.CharField(
        max_length=2048, required=False, help_text="The subject's DID (mandates: the applicant)."
    )
    claims = forms.JSONField(
        widget=forms.Textarea(attrs={"rows": 12, "cols": 80}),
        help_text='The subject\'s claims, e.g. {"name": ..., "personType": "legal", ...}.',
    )
    format = forms.ChoiceField(choices=IssuedCredential.Format.choices)
    expiration = forms.DateTimeField(required=False, help_text="Optional expirationDate (UTC).")
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput, initial=new_idempotency_key, max_length=IDEMPOTENCY_KEY_MAX_LENGTH
    )

    class Meta:
        model = IssuedCredential
        fields: tuple = ()

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.issued: IssuedCredential | None = None
        self.replayed = False  # True: this rendering was submitted before and issued `issued`

    def renew_key(self) -> None:
        """Render the form again with a new key (the bound form would show the one sent)."""
        self.data = self.data.copy()
        self.data[self.add_prefix("idempotency_key")] = new_idempotency_key()

    def clean(self):
        data = super().clean()
        if "idempotency_key" in self.errors:
            # A page rendered before the form had a key, or altered: its hidden field's own
            # error would not show.
            self.renew_key()
            raise forms.ValidationError("This form has no valid one-time key: submit it again.")
        if self.errors:
            return data
        claims = data["claims"]
        if not isinstance(claims, dict):
            raise forms.ValidationError("The claims must be a JSON object.")
        issuer = data["issuing_participant"]
        subject = data.get("subject") or claims.get("id") or issuer.did.did
        expiration = data.get("expiration")
        # What makes two submits of the form "the same request" for its key.
        request_sha256 = issue_request_sha256(
            {
                "issuer": issuer.did.did,
                "type": data["type"],
                "subject": subject,
                "claims": claims,
                "format": data["format"],
                "expiration": expiration.isoformat() if expiration else None,
            }
        )
        try:
            # Issued here so that a refusal is shown on the form; the admin view's transaction
            # covers it, and nothing is written when the service refuses.
            issuance = credential_issue_idempotent(
                idempotency_key=data["idempotency_key"],
                request_sha256=request_sha256,
                issuer=issuer,
                credential_type=data["type"],
                subject_did=subject,
                claims=claims,
                proof_format=data["format"],
                expiration_date=expiration,
                actor=getattr(self.request, "user", None),
                request=self.request,
            )
        except IdempotencyKeyReused:
            # This rendering already issued a credential, and was then changed and sent again:
            # issuing another is a new decision, so the form comes back with a new key.
            earlier = IssuedCredential.objects.filter(
                issuer_did=issuer.did.did, idempotency_key=data["idempotency_key"]
            ).first()
            self.renew_key()
            raise forms.ValidationError(
                "This form was already submitted and issued "
                f"{earlier.credential_id if earlier else 'a credential'}; nothing more was "
                "issued. Submit it again to issue another credential with these values."
            ) from None
        except ApiError as exc:
            problems = exc.extra.get("problems") or []
            raise forms.ValidationError([str(exc.detail), *problems]) from None
        self.issued, self.replayed = issuance.credential, issuance.replayed
        return data


@admin.register(IssuedCredential)
class IssuedCredentialAdmin(
    RegistryAdminsMixin, AddFormMixin, NoSaveOnChangeMixin, admin.ModelAdmin
):
    list_display = ("credential_id", "credential_type", "issuer_did", "subject_did", "issued_at")
    list_filter = ("credential_type", "proof_format")
    search_fields = ("credential_id", "subject_did", "issuer_did", "idempotency_key")
    date_hierarchy = "issued_at"
    readonly_fields = (
        "credential_id",
        "credential_type",
        "issuer",
        "issuer_did",
        "issuer_did_key",
        "subject_did",
        "issued_at",
        "expires_at",
        "proof_format",
        "issued_by",
        "idempotency_key",
        "document_pretty",
    )
    list_select_related = ("issuer",)
    add_form = IssueCredentialForm
    add_fields = (
        "issuing_participant", "type", "subject", "claims", "format", "expiration",
        "idempotency_key",
    )  # fmt: skip
    admin_role_rights = ("view", "add")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None:
            # The add form issues in clean(), for the acting user: hand it the request.
            class RequestForm(form):
                def __init__(self, *args, **kw):
                    super().__init__(*args, request=request, **kw)

            return RequestForm
        return form

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # an issued credential is revoked (status), never deleted

    def save_model(self, request, obj, form, change):
        if change or form.issued is None:
            return
        # The admin goes on with `obj` (message, redirect): make it the issued row.
        for field in IssuedCredential._meta.concrete_fields:
            setattr(obj, field.attname, getattr(form.issued, field.attname))
        obj._state.adding = False
        request._credential_replayed = form.replayed

    def log_addition(self, request, obj, message):
        if not getattr(request, "_credential_replayed", False):  # a replay added nothing
            super().log_addition(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_credential_replayed", False):
            self.message_user(
                request,
                f"This form was already submitted: it issued {obj.credential_id}, shown here; "
                "nothing more was issued.",
                messages.WARNING,
            )
            return HttpResponseRedirect(
                reverse("admin:credentials_issuedcredential_change", args=[obj.pk])
            )
        return super().response_add(request, obj, post_url_continue)

    def save_related(self, request, form, formsets, change):
        pass

    @admin.display(description="Document")
    def document_pretty(self, obj: IssuedCredential) -> str:
        from django.utils.html import format_html

        text = obj.document if isinstance(obj.document, str) else json.dumps(obj.document, indent=2)
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", text)
