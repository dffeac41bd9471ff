from django.urls import path

from .apis import (
    LogCheckpointApi,
    LogConsistencyProofApi,
    LogEntriesApi,
    LogInclusionProofApi,
    LogKeyApi,
    LogLeafApi,
)

app_name = "anchoring"

urlpatterns = [
    path("log/checkpoint", LogCheckpointApi.as_view(), name="checkpoint"),
    path("log/key", LogKeyApi.as_view(), name="key"),
    path("log/proof/inclusion", LogInclusionProofApi.as_view(), name="inclusion-proof"),
    path("log/proof/consistency", LogConsistencyProofApi.as_view(), name="consistency-proof"),
    path("log/entries", LogEntriesApi.as_view(), name="entries"),
    path("log/leaf", LogLeafApi.as_view(), name="leaf"),
]
