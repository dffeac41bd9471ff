"""Celery tasks of the anchoring log: thin and idempotent (run twice, no harm)."""

from celery import shared_task

from . import services


@shared_task(name="anchoring.publish_checkpoint", ignore_result=True)
def publish_checkpoint() -> int:
    """Sign a checkpoint of the current tree size if none exists yet."""
    checkpoint = services.checkpoint_publish()
    return checkpoint.tree_size if checkpoint else 0


@shared_task(
    name="anchoring.deliver_leaf",
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def deliver_leaf(leaf_id: int, backend_name: str) -> None:
    """Hand one leaf to one external anchor backend (once; a receipt records it)."""
    services.anchor_deliver(leaf_id=leaf_id, backend_name=backend_name)


@shared_task(name="anchoring.sweep", ignore_result=True)
def sweep() -> dict:
    """Beat: catch up on anything a lost message or a crash left undone."""
    return services.anchor_sweep()
