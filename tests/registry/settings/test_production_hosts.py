"""The production settings' default host list: the public host and loopback (the container's own
health checks), never the test client's "testserver"."""

from .fresh_process import setting_in_fresh_process

PRODUCTION_ENV = {
    "SECRET_KEY": "a-production-secret-key-for-this-test-only-0123456789",
    "REGISTRY_MASTER_KEYS": "prod-1:dGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGVzLWxvbmchISE",
    "REGISTRY_HOST": "registry.example.org",
}


def test_production_hosts_default_to_the_public_host_and_loopback():
    hosts = setting_in_fresh_process(
        "settings.ALLOWED_HOSTS",
        settings_module="registry.settings.production",
        env=PRODUCTION_ENV,
        unset=("ALLOWED_HOSTS",),
    )
    assert hosts == ["registry.example.org", "localhost", "127.0.0.1"]


def test_production_hosts_are_the_operators_when_set():
    hosts = setting_in_fresh_process(
        "settings.ALLOWED_HOSTS",
        settings_module="registry.settings.production",
        env={**PRODUCTION_ENV, "ALLOWED_HOSTS": "registry.example.org,testserver"},
    )
    assert hosts == ["registry.example.org", "testserver"]
