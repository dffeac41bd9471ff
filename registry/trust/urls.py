from django.urls import path

from . import apis

app_name = "trust"

urlpatterns = [
    path("trust/authorization", apis.TrustAuthorizationApi.as_view(), name="authorization"),
    path("trust/accreditations", apis.TrustAccreditationsApi.as_view(), name="accreditations"),
    path("trust/issuers", apis.TrustedIssuersApi.as_view(), name="issuers"),
    path(
        "trust/accreditations/grant",
        apis.AccreditationGrantApi.as_view(),
        name="accreditation-grant",
    ),
    path(
        "trust/accreditations/<int:pk>/suspend",
        apis.AccreditationSuspendApi.as_view(),
        name="accreditation-suspend",
    ),
    path(
        "trust/accreditations/<int:pk>/reinstate",
        apis.AccreditationReinstateApi.as_view(),
        name="accreditation-reinstate",
    ),
    path(
        "trust/accreditations/<int:pk>/withdraw",
        apis.AccreditationWithdrawApi.as_view(),
        name="accreditation-withdraw",
    ),
    path("trust/offices/<str:st3>/members", apis.OfficeMembersApi.as_view(), name="members"),
    path(
        "trust/offices/<str:st3>/members/<str:username>",
        apis.OfficeMemberRemoveApi.as_view(),
        name="member-remove",
    ),
    path("trust/offices/<str:st3>/api-keys", apis.OfficeApiKeysApi.as_view(), name="api-keys"),
    path(
        "trust/api-keys/<str:prefix>/revoke", apis.ApiKeyRevokeApi.as_view(), name="api-key-revoke"
    ),
    path(
        "trust/api-keys/<str:prefix>/rotate", apis.ApiKeyRotateApi.as_view(), name="api-key-rotate"
    ),
    path(
        "trust/offices/<str:st3>/signing-key/rotate",
        apis.OfficeSigningKeyRotateApi.as_view(),
        name="signing-key-rotate",
    ),
    path("trust/keys/compromised", apis.KeyCompromisedApi.as_view(), name="key-compromised"),
]
