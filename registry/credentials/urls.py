from django.urls import path, re_path

from . import apis

urlpatterns = [
    path("credentials", apis.CredentialListApi.as_view(), name="credentials-list"),
    path("credentials/issue", apis.CredentialIssueApi.as_view(), name="credentials-issue"),
    path("credentials/verify", apis.CredentialVerifyApi.as_view(), name="credentials-verify"),
    path("presentations/verify", apis.PresentationVerifyApi.as_view(), name="presentations-verify"),
    path("challenges", apis.ChallengeCreateApi.as_view(), name="challenges-create"),
    # Only credential ids match here, so that other apps' /credentials/<word> routes still do.
    re_path(
        r"^credentials/(?P<credential_id>(?:urn:uuid:)?[0-9a-fA-F]{8}-[0-9a-fA-F-]{27})$",
        apis.CredentialRetrieveApi.as_view(),
        name="credentials-retrieve",
    ),
    path("contexts/ip/v1", apis.ContextApi.as_view(), name="contexts-ip-v1"),
    path("schemas/<str:credential_type>.json", apis.SchemaApi.as_view(), name="schemas"),
]
