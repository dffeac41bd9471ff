"""Demo portal users (a step of registry.participants.demo.DEMO_STEPS), DEBUG only since their
passwords are published: an applicant and an agent (the first demo ones get a login), an
officer and an office administrator of EP. Running it again changes nothing."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model

DEMO_PORTAL_PASSWORD = "portal-demo"  # noqa: S105 - printed on purpose, DEBUG only
DEMO_APPLICANT_EMAIL = "applicant@demo.example"
DEMO_AGENT_EMAIL = "agent@demo.example"
DEMO_OFFICER_EMAIL = "officer@ep.demo.example"
DEMO_OFFICE_ADMIN_EMAIL = "admin@ep.demo.example"


def _user(ctx, email: str):
    users = get_user_model()
    user = users.objects.filter(username=email).first()
    if user is None:
        user = users.objects.create_user(username=email, email=email, password=DEMO_PORTAL_PASSWORD)
        ctx.created.append(f"portal user {email}")
    return user


def _give_login(ctx, participant, email: str) -> None:
    if participant is None:
        return
    user = _user(ctx, email)
    if participant.user_id is None:
        participant.user = user
        participant.save(update_fields=["user"])


def _membership(ctx, office, email: str, role: str) -> None:
    from registry.trust.models import OfficeMembership
    from registry.trust.services import office_member_add

    if office is None:
        return
    user = _user(ctx, email)
    if not OfficeMembership.objects.filter(user=user, office=office, role=role).exists():
        office_member_add(actor="load_demo_data", office=office, user=user, role=role)
        ctx.created.append(f"{role} {email} of {office.st3_code}")


def step_portal_users(ctx) -> None:
    if not settings.DEBUG:
        return
    _give_login(ctx, next(iter(ctx.applicants.values()), None), DEMO_APPLICANT_EMAIL)
    _give_login(ctx, next(iter(ctx.agents.values()), None), DEMO_AGENT_EMAIL)
    ep = ctx.offices.get("EP")
    _membership(ctx, ep, DEMO_OFFICER_EMAIL, "officer")
    _membership(ctx, ep, DEMO_OFFICE_ADMIN_EMAIL, "admin")
    ctx.say(
        f"demo portal users (DEBUG only), password {DEMO_PORTAL_PASSWORD!r}: "
        f"{DEMO_APPLICANT_EMAIL} (applicant), {DEMO_AGENT_EMAIL} (agent), "
        f"{DEMO_OFFICER_EMAIL} (EP officer), {DEMO_OFFICE_ADMIN_EMAIL} (EP office admin) "
        f"at {settings.REGISTRY_BASE_URL}/accounts/login/"
    )
