"""An external anchor backend for tests: records what it is handed, in memory."""

from registry.anchoring.backends import AnchorBackend

RECEIVED: list[str] = []
FAIL = {"on": False}
# Leaf hashes the ledger refuses every time (a poison leaf), and how many calls it saw.
REFUSED: set[str] = set()
CALLS = {"n": 0}


class RecordingBackend(AnchorBackend):
    name = "recording"

    def append(self, leaf):
        CALLS["n"] += 1
        if leaf.leaf_hash in REFUSED:
            raise ValueError("the ledger refuses this entry")
        if FAIL["on"]:
            raise ConnectionError("ledger unreachable")
        RECEIVED.append(leaf.leaf_hash)
        return f"tx-{leaf.index}"
