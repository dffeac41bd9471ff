from django.urls import path

from .apis import ParticipantDetailApi, ParticipantListApi

app_name = "participants"

urlpatterns = [
    path("api/participants/", ParticipantListApi.as_view(), name="list"),
    # `path:` because a DID may contain "%2F"-free but ":"-rich segments and arrive with a
    # decoded "%3A"; the selector maps our own host back (see did_from_url_segment).
    path("api/participants/<path:did>/", ParticipantDetailApi.as_view(), name="detail"),
]
