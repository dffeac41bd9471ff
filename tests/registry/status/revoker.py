"""Run as a subprocess by the concurrency test: revoke the credential ids listed in a JSON file
from several threads, through the service, as a separate web process would.

    python -m tests.registry.status.revoker <ids.json> <threads> <issuer registry DID>
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path


def main() -> int:
    ids_file, threads, issuer_did = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings.test")
    import django

    django.setup()
    from django.db import connection

    from registry.status.services import credential_status_change, status_enqueue_drain

    ids = json.loads(Path(ids_file).read_text())
    errors: list[str] = []
    barrier = threading.Barrier(threads)

    def run(chunk: list[str]) -> None:
        try:
            barrier.wait(timeout=30)
            for credential_id in chunk:
                credential_status_change(
                    issuer=issuer_did, credential_id=credential_id, action="revoke", actor="revoker"
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
    sys.stdout.write(json.dumps({"revoked": len(ids), "errors": errors}) + "\n")
    sys.stdout.flush()
    return 1 if errors else 0


if __name__ == "__main__":
    code = main()
    # didkit's runtime can abort at interpreter shutdown; leave with our own code.
    os._exit(code)
