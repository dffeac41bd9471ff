from django.urls import path

from .apis import CredentialStatusUpdateApi, StatusListApi, StatusListVersionApi

app_name = "status"

urlpatterns = [
    path("credentials/status", CredentialStatusUpdateApi.as_view(), name="update"),
    path("status-lists/<str:list_id>", StatusListApi.as_view(), name="list"),
    path(
        "status-lists/<str:list_id>/versions/<int:version>",
        StatusListVersionApi.as_view(),
        name="list-version",
    ),
]
