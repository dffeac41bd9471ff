"""An external anchor backend for tests: records what it is handed, in memory."""

from registry.anchoring.backends import AnchorBackend

RECEIVED: list[str] = []
FAIL = {"on": False}


class RecordingBackend(AnchorBackend):
    name = "recording"

    def append(self, leaf):
        if FAIL["on"]:
            raise ConnectionError("ledger unreachable")
        RECEIVED.append(leaf.leaf_hash)
        return f"tx-{leaf.index}"
