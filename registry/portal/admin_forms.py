"""Forms of the administration screens (trust registry, office members, API keys, audit)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from .forms import OfficeField, OneTimeKeyForm
from .models import APPLICANT_CREDENTIAL, REPRESENTATIVE_CREDENTIAL

ISSUABLE_TYPES = [
    (APPLICANT_CREDENTIAL, APPLICANT_CREDENTIAL),
    (REPRESENTATIVE_CREDENTIAL, REPRESENTATIVE_CREDENTIAL),
]


class AccreditationGrantForm(OneTimeKeyForm):
    office = OfficeField()
    credential_types = forms.MultipleChoiceField(
        label=_("Credential types"), choices=ISSUABLE_TYPES, widget=forms.CheckboxSelectMultiple
    )
    valid_from = forms.DateTimeField(
        label=_("Valid from (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("UTC. Empty: now."),
    )
    valid_until = forms.DateTimeField(
        label=_("Valid until (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("UTC. Empty: open-ended."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class MemberAddForm(forms.Form):
    email = forms.EmailField(label=_("Email address of the user"))
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[("officer", _("Office officer")), ("admin", _("Office administrator"))],
        widget=forms.RadioSelect,
        initial="officer",
    )

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        user = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("No active account uses this address."))
        return user


class ApiKeyCreateForm(OneTimeKeyForm):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=[
            ("issue", _("issue")),
            ("revoke", _("revoke")),
            ("verify", _("verify")),
            ("resolve", _("resolve")),
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    expires_at = forms.DateTimeField(
        label=_("Expires (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("UTC."),
    )


class AuditFilterForm(forms.Form):
    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=64,
        help_text=_("Exact, or a prefix ending with a dot (accreditation.)."),
    )
    office = forms.CharField(label=_("Office (ST.3)"), required=False, max_length=2)
    actor = forms.CharField(label=_("Actor"), required=False, max_length=200)
    target = forms.CharField(label=_("Target"), required=False, max_length=500)
