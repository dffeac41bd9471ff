"""Demo data for `make run` / `manage.py load_demo_data`: idempotent, step by step.

Each step is a function of a `DemoContext`; it looks up what it needs, creates only what is
missing (so a second run changes nothing) and reports through `ctx.say`. To add demo data for
your app, write a step and add it to `DEMO_STEPS` (order matters: later steps can use
`ctx.offices["EP"]`, `ctx.agents[...]`, `ctx.applicants[...]`, `ctx.superuser`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from identity.models import Did
from identity.services import registry_did_ensure

from .models import Participant
from .services import office_upsert, participant_create

# Real offices, by WIPO ST.3 code: (code, name, country).
DEMO_OFFICES = [
    ("EP", "European Patent Office", "EP"),
    ("US", "United States Patent and Trademark Office", "US"),
    ("JP", "Japan Patent Office", "JP"),
    ("CN", "China National Intellectual Property Administration", "CN"),
    ("KR", "Korean Intellectual Property Office", "KR"),
    ("EM", "European Union Intellectual Property Office", "EM"),
    ("WO", "World Intellectual Property Organization (International Bureau)", "WO"),
]

# Fictional agents and applicants: (display name, country).
DEMO_AGENTS = [
    ("Dupont & Lefèvre Conseils en Propriété Industrielle", "FR"),
    ("Hoffmann Berger Patentanwälte", "DE"),
    ("Sakura Bridge IP Law Firm", "JP"),
    ("Northgate Patent Attorneys LLP", "GB"),
]
DEMO_APPLICANTS = [
    ("Acme Robotics GmbH", "DE"),
    ("Blue Lotus Biotech Co., Ltd.", "CN"),
    ("Cedar Valley Instruments Inc.", "US"),
]

DEMO_ACTOR = "load_demo_data"  # how the audit trail names who added the demo data
DEMO_SUPERUSER = "admin"
DEMO_SUPERUSER_PASSWORD = "registry-demo"  # noqa: S105 - printed on purpose, DEBUG only


@dataclass
class DemoContext:
    say: Callable[[str], None] = lambda _line: None
    registry: Did | None = None
    offices: dict[str, Participant] = field(default_factory=dict)  # by ST.3 code
    agents: dict[str, Participant] = field(default_factory=dict)  # by display name
    applicants: dict[str, Participant] = field(default_factory=dict)  # by display name
    superuser: object | None = None
    created: list[str] = field(default_factory=list)  # what this run added, for the summary


def _step_registry_did(ctx: DemoContext) -> None:
    ctx.registry = registry_did_ensure()
    ctx.say(f"registry DID: {ctx.registry.did}")


def _step_offices(ctx: DemoContext) -> None:
    for code, name, country in DEMO_OFFICES:
        office, created = office_upsert(st3_code=code, name=name, country=country, actor=DEMO_ACTOR)
        ctx.offices[code] = office
        if created:
            ctx.created.append(f"office {code}")
    ctx.say(f"offices: {', '.join(ctx.offices)}")


def _named(ctx: DemoContext, kind: str, entries, into: dict[str, Participant]) -> None:
    for name, country in entries:
        participant = Participant.objects.filter(kind=kind, display_name=name).first()
        if participant is None:
            participant = participant_create(
                kind=kind, display_name=name, country=country, actor=DEMO_ACTOR
            )
            ctx.created.append(f"{kind} {name}")
        into[name] = participant


def _step_agents(ctx: DemoContext) -> None:
    _named(ctx, Participant.Kind.AGENT, DEMO_AGENTS, ctx.agents)
    ctx.say(f"agents: {len(ctx.agents)}")


def _step_applicants(ctx: DemoContext) -> None:
    _named(ctx, Participant.Kind.APPLICANT, DEMO_APPLICANTS, ctx.applicants)
    ctx.say(f"applicants: {len(ctx.applicants)}")


def _step_superuser(ctx: DemoContext) -> None:
    """A known superuser for the admin, only in DEBUG (never in production settings)."""
    if not settings.DEBUG:
        return
    users = get_user_model()
    user = users.objects.filter(username=DEMO_SUPERUSER).first()
    if user is None:
        user = users.objects.create_superuser(
            username=DEMO_SUPERUSER, email="admin@localhost", password=DEMO_SUPERUSER_PASSWORD
        )
        ctx.created.append(f"superuser {DEMO_SUPERUSER}")
    ctx.superuser = user
    if user.check_password(DEMO_SUPERUSER_PASSWORD):
        ctx.say(
            f"demo superuser (DEBUG only): {DEMO_SUPERUSER} / {DEMO_SUPERUSER_PASSWORD} "
            f"at {settings.REGISTRY_BASE_URL}/admin/"
        )
    else:
        ctx.say(f"demo superuser {DEMO_SUPERUSER} exists (its password was changed)")


DEMO_STEPS: list[Callable[[DemoContext], None]] = [
    _step_registry_did,
    _step_offices,
    _step_agents,
    _step_applicants,
    _step_superuser,
]


def _step_accreditations(ctx: DemoContext) -> None:
    from registry.trust.demo import step_accreditations

    step_accreditations(ctx)


DEMO_STEPS.append(_step_accreditations)


def _step_portal_users(ctx: DemoContext) -> None:
    from registry.portal.demo import step_portal_users

    step_portal_users(ctx)


DEMO_STEPS.append(_step_portal_users)


def demo_data_load(*, say: Callable[[str], None] | None = None) -> DemoContext:
    """Load the demo data; running it again changes nothing. Each step is atomic."""
    ctx = DemoContext(say=say or (lambda _line: None))
    for step in DEMO_STEPS:
        with transaction.atomic():
            step(ctx)
    return ctx
