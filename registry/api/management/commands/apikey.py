"""Office API keys from the command line:

    manage.py apikey create --office EP --scopes issue,revoke,verify [--expires-in-days 90] [--name ci]
    manage.py apikey list [--office EP]
    manage.py apikey revoke <prefix>
    manage.py apikey rotate <prefix>

The key is printed once, on create and rotate; only its hash is stored.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from django.utils import timezone

from registry.api.models import ApiKey
from registry.api.services import api_key_create, api_key_get, api_key_revoke, api_key_rotate
from registry.participants.models import Participant


class Command(BaseCommand):
    help = "Create, list, revoke and rotate office API keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key and print it once")
        create.add_argument("--office", required=True, help="the office's WIPO ST.3 code")
        create.add_argument("--scopes", required=True, help="comma separated: issue,revoke,...")
        create.add_argument("--expires-in-days", type=int, default=None)
        create.add_argument("--name", default="")
        listing = sub.add_parser("list", help="list keys (never their secrets)")
        listing.add_argument("--office", default=None)
        revoke = sub.add_parser("revoke", help="revoke a key at once")
        revoke.add_argument("prefix")
        rotate = sub.add_parser("rotate", help="replace a key by a new one, printed once")
        rotate.add_argument("prefix")

    def handle(self, *args, **options):
        try:
            getattr(self, f"_{options['action']}")(options)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except Http404 as exc:
            raise CommandError(str(exc)) from exc

    def _office(self, code: str) -> Participant:
        office = Participant.objects.filter(
            kind=Participant.Kind.OFFICE, st3_code=(code or "").upper()
        ).first()
        if office is None:
            raise CommandError(f"no office with ST.3 code {code!r}")
        return office

    def _create(self, options):
        days = options["expires_in_days"]
        if days is not None and days <= 0:
            raise CommandError("--expires-in-days must be positive")
        api_key, key = api_key_create(
            office=self._office(options["office"]),
            scopes=options["scopes"],
            name=options["name"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
            actor="manage.py apikey",
        )
        self._print_new(api_key, key)

    def _rotate(self, options):
        old = api_key_get(actor=None, prefix_or_id=options["prefix"])
        api_key, key = api_key_rotate(api_key=old, actor="manage.py apikey")
        self.stderr.write(f"Key {old.prefix} is revoked; its replacement:")
        self._print_new(api_key, key)

    def _revoke(self, options):
        api_key = api_key_get(actor=None, prefix_or_id=options["prefix"])
        api_key_revoke(api_key=api_key, actor="manage.py apikey")
        self.stdout.write(f"Revoked {api_key.prefix}.")

    def _list(self, options):
        keys = ApiKey.objects.select_related("office").order_by("office__st3_code", "created_at")
        if options["office"]:
            keys = keys.filter(office=self._office(options["office"]))
        for k in keys:
            state = "revoked" if k.is_revoked else "expired" if k.is_expired() else "active"
            self.stdout.write(
                f"{k.prefix}  {k.office.st3_code}  {','.join(k.scopes):24}  {state:8}  "
                f"expires={k.expires_at.isoformat() if k.expires_at else '-'}  "
                f"last_used={k.last_used_at.isoformat() if k.last_used_at else '-'}  {k.name}"
            )

    def _print_new(self, api_key: ApiKey, key: str):
        self.stderr.write(
            f"API key {api_key.prefix} for {api_key.office.st3_code} "
            f"(scopes: {','.join(api_key.scopes)}"
            + (f", expires {api_key.expires_at.isoformat()}" if api_key.expires_at else "")
            + "). It is shown only now; store it safely:"
        )
        self.stdout.write(key)
