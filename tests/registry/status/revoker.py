"""Run as a subprocess by the concurrency tests: revoke (or allocate status entries for) the
credential ids listed in a JSON file from several threads, through the services, as a separate
web process would.

    python -m tests.registry.status.revoker revoke|allocate <ids.json> <threads> <issuer DID> [list size]
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path


def main() -> int:
    mode, ids_file, threads, issuer_did = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings.test")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from registry.status.services import (
        credential_status_change,
        status_enqueue_drain,
        status_entry_allocate,
    )

    if len(sys.argv) > 5:
        settings.STATUS_LIST_SIZE = int(sys.argv[5])

    ids = json.loads(Path(ids_file).read_text())
    errors: list[str] = []
    barrier = threading.Barrier(threads)

    def run(chunk: list[str]) -> None:
        try:
            barrier.wait(timeout=30)
            for credential_id in chunk:
                if mode == "allocate":
                    status_entry_allocate(issuer_did=issuer_did, credential_id=credential_id)
                else:
                    credential_status_change(
                        issuer=issuer_did,
                        credential_id=credential_id,
                        action="revoke",
                        actor="revoker",
                    )
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(ids[i::threads],)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    status_enqueue_drain(timeout=60)
    sys.stdout.write(json.dumps({"done": len(ids), "errors": errors}) + "\n")
    sys.stdout.flush()
    return 1 if errors else 0


if __name__ == "__main__":
    code = main()
    # didkit's runtime can abort at interpreter shutdown; leave with our own code.
    os._exit(code)
