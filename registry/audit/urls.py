from django.urls import path

from .apis import AuditExportApi

app_name = "audit"

urlpatterns = [
    path("audit/events", AuditExportApi.as_view(), name="export"),
]
