"""The audit trail: one append-only row per write that matters (who, what, when, from where).

Rows are written only by `registry.audit.services.audit_record`. The application has no update or
delete path: `save()` refuses to change an existing row, `delete()` raises, the admin is read-only,
and on PostgreSQL a trigger refuses UPDATE and DELETE at the database level too.
"""

from __future__ import annotations

from django.db import models


class AuditTrailIsAppendOnly(Exception):
    """Audit events are never changed nor deleted."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditTrailIsAppendOnly("audit events cannot be updated")

    def delete(self):
        raise AuditTrailIsAppendOnly("audit events cannot be deleted")


class AuditEvent(models.Model):
    class ActorType(models.TextChoices):
        USER = "user", "User"
        API_KEY = "api_key", "API key"
        SYSTEM = "system", "System"

    created_at = models.DateTimeField(db_index=True)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    # Plain values, not foreign keys: the trail must outlive (and never be rewritten by) the
    # deletion of a user or a key, which an ON DELETE SET NULL would do.
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    # ST.3 code of the office the actor acted for (API keys, officers), when known.
    office = models.CharField(max_length=8, blank=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=500, blank=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["actor_type", "actor_id"], name="audit_actor_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label or self.actor_type} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AuditTrailIsAppendOnly("audit events cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditTrailIsAppendOnly("audit events cannot be deleted")

    def as_json(self) -> dict:
        return {
            "id": self.pk,
            "time": self.created_at.isoformat(),
            "actor_type": self.actor_type,
            "actor_id": self.actor_id,
            "actor": self.actor_label,
            "office": self.office,
            "action": self.action,
            "target": self.target,
            "data": self.data,
            "ip": self.ip,
            "user_agent": self.user_agent,
        }
