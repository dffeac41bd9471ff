"""The Celery application. Workers must not use the prefork pool: a process that forks after
using didkit hangs in the child. `make run` and docker/ start workers with `--pool threads`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings.dev")

app = Celery("registry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
