"""Development settings: what `make run` uses."""

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)
