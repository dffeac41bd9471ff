"""Documents office API keys (`Authorization: Bearer <key>`) in the OpenAPI schema, for every
view that uses `ApiKeyAuthentication` (imported by this app's views; registration is global)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "registry.api.authentication.ApiKeyAuthentication"
    name = "officeApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An office API key (`python manage.py apikey create --office EP --scopes "
                "issue,revoke,verify`), sent as `Authorization: Bearer <key>`."
            ),
        }
