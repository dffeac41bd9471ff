"""Fast, deterministic settings for the test suite."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Each test process its own cache (tests/registry/test_cache.py tests the Redis one).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "registry-test",
    }
}
# Unit tests run Celery tasks in-process; the integration suite starts real workers.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
CELERY_TASK_EAGER_PROPAGATES = True
# Tests serve remote did:web documents from loopback HTTP servers of their own.
DID_WEB_ALLOW_PRIVATE_ADDRESSES = True
DID_WEB_ALLOW_HTTP = True
REGISTRY_MASTER_KEYS = "test-1:dGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGVzLWxvbmchISE"
# Rate limits high enough not to disturb other tests; throttle tests lower them with
# override_settings.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(
        REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],  # noqa: F405
        "100000/min",
    ),
}
LOGIN_THROTTLE_ATTEMPTS = 1000
LOGIN_THROTTLE_IP_ATTEMPTS = 10000
MAIL_THROTTLE_PER_IP = 10000
MAIL_THROTTLE_PER_ADDRESS = 1000
