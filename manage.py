#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings.dev")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


if __name__ == "__main__":
    code = main()
    # didkit's PyO3 runtime can abort during interpreter shutdown (exit 134/139) after any
    # async call; leave with the real exit code instead of going through that shutdown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
