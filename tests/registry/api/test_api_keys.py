"""Office API keys: shown once, stored hashed, expiring, revocable, rotatable, scoped."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from registry.api import services as api_services
from registry.api.authentication import ApiKeyAuthentication
from registry.api.models import ApiKey
from registry.api.permissions import HasApiKeyScope
from registry.api.services import (
    api_key_create,
    api_key_get,
    api_key_hash,
    api_key_revoke,
    api_key_rotate,
)
from registry.audit.models import AuditEvent
from tests.registry.trust.factories import office

pytestmark = pytest.mark.django_db


class IssueProbe(APIView):
    """A stand-in for any office endpoint: needs the `issue` scope, answers with the office."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKeyScope]
    required_scope = "issue"

    def post(self, request):
        return Response({"office": request.auth.office.st3_code, "user": str(request.user)})


def call(key: str | None, header: str | None = None):
    factory = APIRequestFactory()
    headers = {}
    if header is not None:
        headers["HTTP_AUTHORIZATION"] = header
    elif key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    response = IssueProbe.as_view()(factory.post("/probe", {}, format="json", **headers))
    response.render()
    return response


@pytest.fixture
def ep():
    return office("EP")


def test_key_is_shown_once_and_stored_hashed(ep):
    api_key, key = api_key_create(office=ep, scopes=["issue", "verify"], name="ci")
    assert key.startswith(f"ipr_{api_key.prefix}_")
    assert len(key) > 50
    row = ApiKey.objects.get(pk=api_key.pk)
    assert key not in (row.secret_hash, row.prefix, row.name)
    assert row.secret_hash == api_key_hash(key)
    assert row.scopes == ["issue", "verify"]


def test_valid_key_authenticates_as_its_office(ep):
    _, key = api_key_create(office=ep, scopes="issue")
    response = call(key)
    assert response.status_code == 200
    assert response.data["office"] == "EP"


def test_last_used_is_written_at_most_once_a_minute(ep, django_assert_num_queries):
    api_key, key = api_key_create(office=ep, scopes="issue")
    assert call(key).status_code == 200
    api_key.refresh_from_db()
    first = api_key.last_used_at
    assert first is not None
    with django_assert_num_queries(1):  # the lookup only, no UPDATE
        assert call(key).status_code == 200
    api_key.refresh_from_db()
    assert api_key.last_used_at == first


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer ipr_000000000000_nope", "invalidApiKey"),
        ("Bearer something-else", "invalidApiKey"),
        ("Bearer a b", "invalidApiKey"),
    ],
)
def test_unknown_or_malformed_keys_are_401(ep, header, code):
    response = call(None, header=header)
    assert response.status_code == 401
    assert response.data["error"] == code
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_tampered_secret_with_a_real_prefix_is_401(ep):
    _, key = api_key_create(office=ep, scopes="issue")
    response = call(key[:-2] + ("AA" if not key.endswith("AA") else "BB"))
    assert response.status_code == 401
    assert response.data["error"] == "invalidApiKey"


def test_no_key_is_401_with_www_authenticate(ep):
    response = call(None)
    assert response.status_code == 401
    assert response.data["error"] == "notAuthenticated"
    assert "Bearer" in response["WWW-Authenticate"]


def test_wrong_scope_is_403_naming_the_scope(ep):
    _, key = api_key_create(office=ep, scopes=["verify", "resolve"])
    response = call(key)
    assert response.status_code == 403
    assert response.data["error"] == "insufficientScope"
    assert "'issue'" in response.data["message"]


def test_expired_key_is_401(ep):
    api_key, key = api_key_create(
        office=ep, scopes="issue", expires_at=timezone.now() + timedelta(hours=1)
    )
    ApiKey.objects.filter(pk=api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = call(key)
    assert response.status_code == 401
    assert response.data["error"] == "apiKeyExpired"


def test_revoked_key_is_401_at_once(ep):
    api_key, key = api_key_create(office=ep, scopes="issue")
    assert call(key).status_code == 200
    api_key_revoke(api_key=api_key)
    response = call(key)
    assert response.status_code == 401
    assert response.data["error"] == "apiKeyRevoked"


def test_rotation_replaces_the_key(ep):
    api_key, key = api_key_create(office=ep, scopes=["issue"], name="ci")
    new, new_key = api_key_rotate(api_key=api_key)
    assert new_key != key
    assert (new.scopes, new.name, new.office_id) == (["issue"], "ci", ep.pk)
    assert new.rotated_from_id == api_key.pk
    assert call(key).data["error"] == "apiKeyRevoked"
    assert call(new_key).status_code == 200
    with pytest.raises(Exception, match="revoked"):
        api_key_rotate(api_key=api_key)


def test_bad_scopes_and_expiry_are_refused(ep):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="unknown: admin"):
        api_key_create(office=ep, scopes="issue,admin")
    with pytest.raises(ValidationError):
        api_key_create(office=ep, scopes="")
    with pytest.raises(ValidationError, match="future"):
        api_key_create(office=ep, scopes="issue", expires_at=timezone.now())


def test_keys_are_for_offices_only():
    from django.core.exceptions import ValidationError

    from tests.registry.trust.factories import participant

    with pytest.raises(ValidationError, match="offices only"):
        api_key_create(office=participant(kind="agent"), scopes="issue")


def test_a_key_whose_prefix_is_all_digits_is_found_by_its_prefix(ep, monkeypatch):
    # About one key in 280 draws a prefix of twelve digits; it was read as a database id, so
    # `apikey revoke <prefix>` (and the HTTP revoke/rotate) answered "No such API key".
    real_token_hex = api_services.secrets.token_hex
    monkeypatch.setattr(
        api_services.secrets, "token_hex", lambda n: "123456789012" if n == 6 else real_token_hex(n)
    )
    api_key, key = api_key_create(office=ep, scopes="issue")
    monkeypatch.undo()
    assert api_key.prefix == "123456789012"
    assert call(key).status_code == 200
    assert api_key_get(actor=None, prefix_or_id="123456789012") == api_key
    assert api_key_get(actor=None, prefix_or_id=str(api_key.pk)) == api_key  # ids still work
    call_command("apikey", "revoke", "123456789012", stdout=StringIO())
    assert call(key).status_code == 401


def test_management_command_life_cycle(ep):
    out, err = StringIO(), StringIO()
    call_command(
        "apikey", "create", "--office", "ep", "--scopes", "issue,revoke,verify",
        "--expires-in-days", "30", "--name", "backoffice", stdout=out, stderr=err,
    )  # fmt: skip
    key = out.getvalue().strip()
    assert call(key).status_code == 200
    api_key = ApiKey.objects.get()
    assert api_key.scopes == ["issue", "revoke", "verify"]
    assert api_key.expires_at > timezone.now() + timedelta(days=29)
    assert "shown only now" in err.getvalue()

    listing = StringIO()
    call_command("apikey", "list", "--office", "EP", stdout=listing)
    assert api_key.prefix in listing.getvalue()
    assert key not in listing.getvalue()

    rotated = StringIO()
    call_command("apikey", "rotate", api_key.prefix, stdout=rotated, stderr=StringIO())
    new_key = rotated.getvalue().strip()
    assert call(key).status_code == 401
    assert call(new_key).status_code == 200

    new_prefix = new_key.split("_")[1]
    call_command("apikey", "revoke", new_prefix, stdout=StringIO())
    assert call(new_key).status_code == 401

    with pytest.raises(CommandError, match="no office"):
        call_command("apikey", "create", "--office", "ZZ", "--scopes", "issue")
    with pytest.raises(CommandError, match="scopes"):
        call_command("apikey", "create", "--office", "EP", "--scopes", "everything")
    with pytest.raises(CommandError, match="No such API key"):
        call_command("apikey", "revoke", "doesnotexist")

    actions = list(
        AuditEvent.objects.filter(action__startswith="api_key.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["api_key.create", "api_key.rotate", "api_key.revoke"]
