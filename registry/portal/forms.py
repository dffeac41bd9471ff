"""Portal forms: field validation and clear messages; rules that the API shares live in the
services, which the views call with the cleaned data."""

from __future__ import annotations

import secrets

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.participants.models import Participant

from . import selectors
from .models import MandateGrant
from .services import PortalError, parse_application_numbers, st3_country_problem

MAX_DOCUMENT_BYTES = 256 * 1024
FORM_KEY_SALT = "registry.portal.form-key"


def new_form_key() -> str:
    """A one-time key for one rendering of a form (Django calls it each time it renders one):
    random, signed and dated, so that an altered or stale key is refused."""
    return signing.TimestampSigner(salt=FORM_KEY_SALT).sign(f"portal-{secrets.token_urlsafe(24)}")


class OneTimeKeyForm(forms.Form):
    """A form whose every rendering carries its own key (a hidden field): the service that
    handles it does its work once per key, so that submitting the same page twice (a double
    click, the browser sending it again) does it once. The key is the `Idempotency-Key` of the
    credential service, or of the row the form creates."""

    form_key = forms.CharField(widget=forms.HiddenInput, initial=new_form_key, max_length=255)

    def clean_form_key(self):
        try:
            # Past the credential service's memory of keys, a key would issue anew: refuse it.
            signing.TimestampSigner(salt=FORM_KEY_SALT).unsign(
                self.cleaned_data["form_key"],
                max_age=settings.IDEMPOTENCY_KEY_RETENTION_HOURS * 3600,
            )
        except signing.BadSignature:  # altered, or too old (SignatureExpired is one)
            raise forms.ValidationError("invalid") from None
        return self.cleaned_data["form_key"]

    def clean(self):
        data = super().clean()
        if "form_key" in self.errors:
            # A page rendered before forms had keys, altered, or left open too long: nothing is
            # done, and the form comes back with a new key (the hidden field's own error would
            # not show).
            self.renew_key()
            raise forms.ValidationError(
                _(
                    "This form has expired or was altered: nothing was done. Check it and send it again."
                )
            )
        return data

    def renew_key(self) -> None:
        """Render the form again with a new key (a bound form would show the one sent)."""
        self.data = self.data.copy()
        self.data[self.add_prefix("form_key")] = new_form_key()


def _st3_country(code: str) -> str:
    """The country field's value, upper case, if it is a WIPO ST.3 code (not just two letters)."""
    code = code.upper()
    if problem := st3_country_problem(code):
        raise forms.ValidationError(problem)
    return code


class SignupForm(forms.Form):
    KIND_CHOICES = [
        (Participant.Kind.APPLICANT.value, _("Applicant (I file IP applications)")),
        (Participant.Kind.AGENT.value, _("Agent (I represent applicants before offices)")),
    ]

    email = forms.EmailField(label=_("Email address"), max_length=150)
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters; not a common password, not only digits."),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    kind = forms.ChoiceField(label=_("I am"), choices=KIND_CHOICES, widget=forms.RadioSelect)
    display_name = forms.CharField(
        label=_("Name"),
        max_length=200,
        help_text=_("Your name or your organisation's, as offices know it."),
    )
    country = forms.RegexField(
        label=_("Country"),
        regex=r"^[A-Za-z]{2}$",
        max_length=2,
        help_text=_("Two-letter WIPO ST.3 code, for example FR, DE, US, JP."),
        error_messages={"invalid": _("Enter a two-letter WIPO ST.3 country code.")},
        widget=forms.TextInput(attrs={"autocomplete": "country", "size": 3}),
    )

    def clean_email(self):
        from .services import account_email_taken

        email = self.cleaned_data["email"].strip()
        if account_email_taken(email):
            raise forms.ValidationError(_("An account with this email address already exists."))
        return email

    def clean_country(self):
        return _st3_country(self.cleaned_data["country"])

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            try:
                password_validation.validate_password(p1)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class EmailAuthenticationForm(AuthenticationForm):
    """Log in with the email address (it is the username, lower-cased)."""

    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


class OfficeField(forms.CharField):
    """An office by ST.3 code or by name (a datalist suggests both)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Office"))
        kwargs.setdefault(
            "help_text", _("Type the office's name or its ST.3 code (EP, US, JP...).")
        )
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)
        self.widget.attrs.update({"list": "office-list", "autocomplete": "off"})

    def clean(self, value):
        value = super().clean(value)
        text = value.strip()
        # "EP — European Patent Office" as offered by the datalist, or just "EP", or a name.
        head = text.split(" ", 1)[0].strip()
        matches = list(selectors.office_search(head if len(head) == 2 else text)[:3])
        if len(head) == 2:
            exact = [o for o in matches if o.st3_code == head.upper()]
            if exact:
                return exact[0]
            matches = list(selectors.office_search(text)[:3])
        if not matches:
            raise forms.ValidationError(_("No office matches “%(q)s”.") % {"q": text[:60]})
        if len(matches) > 1:
            raise forms.ValidationError(
                _("Several offices match “%(q)s”: use the ST.3 code.") % {"q": text[:60]}
            )
        return matches[0]


class ApplicantCredentialRequestForm(OneTimeKeyForm):
    office = OfficeField()
    name = forms.CharField(label=_("Full legal name"), max_length=300)
    person_type = forms.ChoiceField(
        label=_("Person type"),
        choices=[("natural", _("Natural person")), ("legal", _("Legal person (company)"))],
        widget=forms.RadioSelect,
    )
    country = forms.RegexField(
        label=_("Country"),
        regex=r"^[A-Za-z]{2}$",
        max_length=2,
        help_text=_("Two-letter WIPO ST.3 code."),
        error_messages={"invalid": _("Enter a two-letter WIPO ST.3 country code.")},
    )
    address = forms.CharField(
        label=_("Postal address"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    lei = forms.RegexField(
        label=_("Legal Entity Identifier (optional)"),
        regex=r"^[A-Za-z0-9]{18}[0-9]{2}$",
        required=False,
        max_length=20,
        error_messages={"invalid": _("A LEI is 20 characters: 18 letters or digits, 2 digits.")},
    )
    party_identifier = forms.CharField(
        label=_("Your party identifier at this office (optional)"),
        max_length=100,
        required=False,
        help_text=_("The WIPO ST.96 PartyIdentifier the office already uses for you, if any."),
    )

    def clean_country(self):
        return _st3_country(self.cleaned_data["country"])

    def claims(self) -> dict:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "personType": d["person_type"],
            "country": d["country"].upper(),
            "address": d["address"],
            "lei": d.get("lei") or "",
            "partyIdentifier": d.get("party_identifier") or "",
        }


class RepresentativeCredentialRequestForm(OneTimeKeyForm):
    office = OfficeField()
    registration_number = forms.CharField(
        label=_("Registration number"),
        max_length=100,
        help_text=_("Your number on the office's list of professional representatives."),
    )
    field = forms.ChoiceField(
        label=_("Field"),
        choices=[
            ("patents", _("Patents")),
            ("trademarks", _("Trademarks")),
            ("designs", _("Designs")),
        ],
        widget=forms.RadioSelect,
    )

    def claims(self) -> dict:
        d = self.cleaned_data
        return {"registrationNumber": d["registration_number"], "field": d["field"]}


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for rejection"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The requester sees this text."),
    )


class CredentialSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=2048,
        help_text=_("The subject's name or DID, or a credential id."),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Any")),
            ("active", _("active")),
            ("suspended", _("suspended")),
            ("revoked", _("revoked")),
        ],
    )


class StatusChangeForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("revoke", _("Revoke")), ("suspend", _("Suspend")), ("reinstate", _("Reinstate"))]
    )


class MandateForm(OneTimeKeyForm):
    agent = forms.CharField(
        label=_("Agent"),
        max_length=2048,
        help_text=_("The agent's name or DID."),
        widget=forms.TextInput(attrs={"list": "agent-list", "autocomplete": "off"}),
    )
    office = OfficeField()
    right_type = forms.ChoiceField(
        label=_("IP right type"), choices=MandateGrant.RightType.choices, widget=forms.RadioSelect
    )
    application_numbers = forms.CharField(
        label=_("Application numbers (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "WIPO ST.13 numbers separated by spaces, commas or new lines. Leave empty for all "
            "applications of this type before the office."
        ),
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The mandate ends at the end of this day (UTC)."),
    )

    def clean_agent(self):
        query = self.cleaned_data["agent"].strip()
        if " — " in query:  # "Name — did:web:..." as offered by the datalist
            query = query.rsplit(" — ", 1)[1].strip()
        matches = list(selectors.agent_search(query)[:3])
        if not matches:
            raise forms.ValidationError(_("No agent matches “%(q)s”.") % {"q": query[:60]})
        if len(matches) > 1:
            raise forms.ValidationError(
                _("Several agents match “%(q)s”: use their DID.") % {"q": query[:60]}
            )
        return matches[0]

    def clean_application_numbers(self):
        try:
            return parse_application_numbers(self.cleaned_data.get("application_numbers", ""))
        except PortalError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_valid_until(self):
        value = self.cleaned_data["valid_until"]
        if value <= timezone.now().date():
            raise forms.ValidationError(_("The end date must be in the future."))
        return value


class DocumentForm(forms.Form):
    """A JSON-LD document or a JWT, pasted or uploaded."""

    document = forms.CharField(
        label=_("Paste it here"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )
    upload = forms.FileField(label=_("…or upload a file"), required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("upload")
        text = data.get("document") or ""
        if upload is not None:
            if upload.size > MAX_DOCUMENT_BYTES:
                raise forms.ValidationError(_("The file is too large (256 KiB at most)."))
            try:
                text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The file is not UTF-8 text.")) from None
        if not text.strip():
            raise forms.ValidationError(_("Paste or upload a document."))
        data["text"] = text
        return data


class VerifyForm(DocumentForm):
    kind = forms.ChoiceField(
        label=_("What is it?"),
        choices=[("credential", _("A credential")), ("presentation", _("A presentation"))],
        widget=forms.RadioSelect,
        initial="credential",
    )
    challenge = forms.CharField(
        label=_("Challenge (presentations only)"),
        required=False,
        max_length=200,
        help_text=_("The challenge the presentation was signed over; issued by this registry."),
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == "presentation" and not (data.get("challenge") or "").strip():
            self.add_error("challenge", _("A presentation is verified against its challenge."))
        return data


class ResolveForm(forms.Form):
    did = forms.CharField(
        label=_("DID"),
        max_length=2048,
        widget=forms.TextInput(attrs={"spellcheck": "false", "placeholder": "did:web:…"}),
    )
