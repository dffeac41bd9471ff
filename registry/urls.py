from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # Each app owns its URLs; order matters only for the portal's catch-all pages (last).
    path("", include("registry.api.urls")),
    path("", include("registry.participants.urls")),
    path("", include("registry.credentials.urls")),
    path("", include("registry.status.urls")),
    path("", include("registry.anchoring.urls")),
    path("", include("registry.trust.urls")),
    path("", include("registry.audit.urls")),
    path("", include("registry.portal.urls")),
]
