"""Registry administrators from the command line (the system acts; every change is audited):

manage.py registry_admin add <username>      member of REGISTRY_ADMIN_GROUP, and staff (the admin)
manage.py registry_admin remove <username>
manage.py registry_admin list                the group's members, and the superusers
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from registry.trust.services import registry_admin_appoint, registry_admin_dismiss

ACTOR = "manage.py registry_admin"


class Command(BaseCommand):
    help = "Appoint, dismiss and list registry administrators (REGISTRY_ADMIN_GROUP)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name in ("add", "remove"):
            sub.add_parser(name).add_argument("username")
        sub.add_parser("list")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "list":
            self._list()
            return
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no account has the username {options['username']!r}")
        try:
            if action == "add":
                registry_admin_appoint(actor=ACTOR, user=user)
            else:
                registry_admin_dismiss(actor=ACTOR, user=user)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        user.refresh_from_db()
        self.stdout.write(
            f"{user.get_username()}: "
            + ("registry administrator" if action == "add" else "no longer in the group")
            + (", staff" if user.is_staff else ", not staff")
        )

    def _list(self):
        users = get_user_model().objects.filter(is_active=True)
        members = users.filter(groups__name=settings.REGISTRY_ADMIN_GROUP)
        for user in members.order_by("username"):
            self.stdout.write(f"{user.get_username()}{'' if user.is_staff else ' (not staff)'}")
        for user in users.filter(is_superuser=True).exclude(pk__in=members).order_by("username"):
            self.stdout.write(f"{user.get_username()} (superuser)")
