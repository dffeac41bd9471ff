from django.urls import path, re_path

from . import health, resolution

urlpatterns = [
    path("api/health", health.HealthApi.as_view(), name="health"),
    path("api/ready", health.ReadinessApi.as_view(), name="ready"),
    # DIF Universal Resolver driver interface; <path:...> because DIDs and DID URLs may hold
    # "/" and the percent-decoded "#" of a fragment.
    path(
        "1.0/identifiers/<path:did>",
        resolution.ResolveIdentifierApi.as_view(),
        name="resolve-identifier",
    ),
    path("1.0/methods", resolution.ResolverMethodsApi.as_view(), name="resolver-methods"),
    path("1.0/keys/<path:did>", resolution.KeyOwnerApi.as_view(), name="key-owner"),
    # did:web documents of registry DIDs (the registry's own first: ".well-known" would also
    # match the general pattern).
    path(
        ".well-known/did.json",
        resolution.RegistryDidDocumentApi.as_view(),
        name="registry-did-document",
    ),
    re_path(
        r"^(?P<path>(?:[A-Za-z0-9._-]+/)*[A-Za-z0-9._-]+)/did\.json$",
        resolution.DidDocumentApi.as_view(),
        name="did-document",
    ),
]
