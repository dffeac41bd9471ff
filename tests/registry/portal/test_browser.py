"""The portal in headless Chromium (Debian's package, driven by Playwright): sign up, confirm
the email, request a credential, an officer approves it, the applicant downloads it and it
verifies through the API; the officer revokes it and verification fails; a mandate reaches its
agent; every main page in French. Screenshots go to $SCREENSHOT_DIR (default: a temp dir)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from . import factories

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself (fixtures, outbox) are plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a-long-and-unusual-pass"


@pytest.fixture(scope="module")
def screenshot_dir() -> Path:
    path = Path(os.environ.get("SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="portal-shots-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def portal_data(transactional_db):
    """Offices and an officer, made before Playwright starts: its sync API keeps an event
    loop running in this thread, and the didkit adapter (accreditation credentials) cannot
    run its own loop inside it."""
    ep = factories.office("EP", "European Patent Office")
    factories.office("US", "United States Patent and Trademark Office")
    factories.officer(ep, email="officer@epo.example.org")
    factories.user("root@example.org", is_superuser=True, is_staff=True)
    return ep


@pytest.fixture
def browser(portal_data):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    contexts = []

    def make(viewport=None):
        context = browser.new_context(
            base_url=live_server.url,
            accept_downloads=True,
            viewport=viewport or {"width": 1280, "height": 900},
            locale="en-GB",
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        # Destructive buttons ask first (portal.js); record and accept the question.
        page.confirmations = []
        page.on(
            "dialog",
            lambda dialog, page=page: (page.confirmations.append(dialog.message), dialog.accept()),
        )
        return page

    yield make
    for context in contexts:
        context.close()


UNLABELLED_CONTROLS = """
() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => !['hidden', 'submit', 'button'].includes(el.type))
  .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id)
"""


def check_page(page) -> None:
    """What every portal page owes its users: a language, one h1, labelled controls, a CSRF
    token in every POST form, and no sideways scrolling of the page itself."""
    assert page.locator("html").get_attribute("lang") in ("en", "fr")
    assert page.locator("h1").count() == 1, page.url
    assert page.evaluate(UNLABELLED_CONTROLS) == [], page.url
    posts = page.locator("form[method=post]")
    for i in range(posts.count()):
        assert posts.nth(i).locator("input[name=csrfmiddlewaretoken]").count() == 1, page.url
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{page.url} scrolls sideways by {overflow}px"


def shot(page, folder: Path, name: str) -> None:
    check_page(page)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def log_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/portal/")


def sign_up(page, *, email, name, kind, country, folder=None) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_label("Applicant" if kind == "applicant" else "Agent", exact=False).first.check()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Country").fill(country)
    if folder:
        shot(page, folder, "signup")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url("**/accounts/signup/done/")
    message = next(m for m in reversed(mail.outbox) if email in m.to)
    link = re.search(r"https?://\S+/accounts/confirm/\S+/", message.body).group(0)
    page.goto(link[link.index("/accounts/") :])
    page.wait_for_url("**/accounts/login/")


def sign_wallet_presentation(challenge: str, domain: str) -> tuple[str, str]:
    """A wallet's presentation over `challenge` for `domain`, signed in another thread: the didkit adapter
    runs its own event loop, which cannot nest in Playwright's."""
    from concurrent.futures import ThreadPoolExecutor

    from identity.crypto import didkit_adapter
    from identity.crypto.keys import Ed25519KeyPair

    def sign():
        wallet = Ed25519KeyPair.generate()
        presentation = {
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiablePresentation"],
            "holder": wallet.did_key,
        }
        signed = didkit_adapter.issue_presentation(
            presentation, key=wallet, challenge=challenge, domain=domain
        )
        return wallet.did_key, json.dumps(signed)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(sign).result()


def verify_through_api(page, document) -> dict:
    response = page.request.post(
        "/credentials/verify",
        data=json.dumps({"verifiableCredential": document}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 200, response.text()
    return response.json()


def test_portal_end_to_end(portal_data, new_page, live_server, screenshot_dir):

    # --- the applicant signs up, confirms, requests a credential -------------------------
    applicant = new_page()
    applicant.goto("/")
    shot(applicant, screenshot_dir, "home")
    sign_up(
        applicant,
        email="alice@example.org",
        name="Alice Inventions SARL",
        kind="applicant",
        country="FR",
        folder=screenshot_dir,
    )
    shot(applicant, screenshot_dir, "login")
    log_in(applicant, "alice@example.org")
    did = applicant.locator("#my-did").inner_text()
    assert did.startswith("did:web:")

    applicant.get_by_role("link", name="Request a credential").first.click()
    applicant.get_by_label("Office", exact=True).fill("EP — European Patent Office")
    applicant.get_by_label("Legal person").check()
    applicant.get_by_label("Postal address").fill("1 rue de la Paix, 75002 Paris")
    applicant.get_by_label("Your party identifier at this office").fill("EP-PARTY-42")
    shot(applicant, screenshot_dir, "request-new")
    applicant.get_by_role("button", name="Send the request").click()
    applicant.wait_for_url(re.compile(r".*/portal/requests/\d+/$"))
    expect(applicant.locator("#request-state")).to_have_text("Pending review")
    request_url = applicant.url
    shot(applicant, screenshot_dir, "request-pending")

    # --- the officer approves it --------------------------------------------------------
    office = new_page()
    office.goto("/accounts/login/")
    factories_password = factories.PASSWORD
    log_in(office, "officer@epo.example.org", factories_password)
    office.get_by_role("link", name="Office", exact=True).click()
    office.wait_for_url("**/portal/office/EP/queue/")
    shot(office, screenshot_dir, "office-queue")
    office.get_by_role("link", name="Alice Inventions SARL").click()
    shot(office, screenshot_dir, "office-review")
    office.get_by_role("button", name="Approve and issue").click()
    # expect() waits for the page after the POST: the review page has a #request-state too
    expect(office.locator("#request-state")).to_have_text("Approved")

    # --- the applicant downloads it; it verifies through the API ------------------------
    applicant.goto(request_url)
    assert applicant.locator("#request-state").inner_text() == "Approved"
    applicant.get_by_role("link", name="See my credential").click()
    assert applicant.locator(".qr svg").count() == 1
    shot(applicant, screenshot_dir, "credential")
    with applicant.expect_download() as download_info:
        applicant.locator("#download-jsonld").click()
    document = json.loads(Path(download_info.value.path()).read_text())
    assert document["credentialSubject"]["id"] == did
    with applicant.expect_download() as download_info:
        applicant.locator("#download-jwt").click()
    token = Path(download_info.value.path()).read_text().strip()
    assert token.count(".") == 2
    assert verify_through_api(applicant, document)["verified"] is True
    assert verify_through_api(applicant, token)["verified"] is True
    applicant.goto("/portal/")
    shot(applicant, screenshot_dir, "dashboard")
    applicant.set_viewport_size({"width": 390, "height": 844})
    shot(applicant, screenshot_dir, "dashboard-phone")
    applicant.set_viewport_size({"width": 1280, "height": 900})

    # --- the officer revokes it; verification then fails --------------------------------
    office.get_by_role("link", name="Back to the queue").click()
    office.get_by_role("link", name="Issued credentials").first.click()
    shot(office, screenshot_dir, "office-credentials")
    office.get_by_role("button", name="Revoke").first.click()
    expect(office.locator(".messages")).to_contain_text("Revoked.")
    assert office.confirmations == ["Revoke this credential? This cannot be undone."]
    result = verify_through_api(applicant, document)
    assert result["verified"] is False
    assert result["results"]["status"]["ok"] is False
    assert verify_through_api(applicant, token)["verified"] is False

    # --- an agent signs up; the applicant grants a mandate; the agent sees it -----------
    agent = new_page()
    sign_up(
        agent,
        email="carol@example.org",
        name="Carol Patent Attorneys",
        kind="agent",
        country="FR",
    )
    log_in(agent, "carol@example.org")
    applicant.goto("/portal/mandates/")
    applicant.get_by_role("link", name="Grant a mandate").click()
    applicant.get_by_label("Agent", exact=True).fill("Carol Patent Attorneys")
    applicant.get_by_label("Office", exact=True).fill("EP")
    applicant.get_by_label("Patent", exact=True).check()
    applicant.get_by_label("Application numbers").fill("EP2023000123")
    until = (dt.datetime.now(tz=dt.UTC).date() + dt.timedelta(days=180)).isoformat()
    applicant.get_by_label("Valid until").fill(until)
    shot(applicant, screenshot_dir, "mandate-new")
    applicant.get_by_role("button", name="Sign and grant").click()
    applicant.wait_for_url("**/portal/mandates/")
    assert "Carol Patent Attorneys" in applicant.locator("#mandates-granted").inner_text()
    shot(applicant, screenshot_dir, "mandates-applicant")
    agent.goto("/portal/mandates/")
    held = agent.locator("#mandates-held").inner_text()
    assert "Alice Inventions SARL" in held
    assert "EP2023000123" in held
    shot(agent, screenshot_dir, "mandates-agent")

    # --- officer tools ------------------------------------------------------------------
    office.goto("/portal/tools/resolve/")
    office.get_by_label("DID").fill(did)
    office.get_by_role("button", name="Resolve").click()
    expect(office.locator("#did-document")).to_contain_text(did)
    shot(office, screenshot_dir, "tool-resolve")
    office.goto("/portal/tools/verify/")
    office.get_by_label("Paste it here").fill(json.dumps(document))
    office.get_by_role("button", name="Verify").last.click()
    expect(office.locator("#verdict")).to_have_text("not verified")  # revoked
    shot(office, screenshot_dir, "tool-verify")

    # --- the applicant links a wallet over a challenge ----------------------------------
    applicant.goto("/portal/wallet/")
    challenge = applicant.locator("#challenge").inner_text()
    domain = applicant.locator("#domain").inner_text()  # the wallet shows it before signing
    wallet_did, presentation = sign_wallet_presentation(challenge, domain)
    applicant.get_by_label("Paste it here").fill(presentation)
    shot(applicant, screenshot_dir, "wallet")
    applicant.get_by_role("button", name="Verify and link").click()
    applicant.wait_for_url("**/portal/")
    assert wallet_did[:40] in applicant.locator("main").inner_text()

    # --- the registry administrator's screens ------------------------------------------
    root = new_page()
    log_in(root, "root@example.org", factories.PASSWORD)
    root.goto("/portal/admin/")
    assert "IPApplicantCredential" in root.locator("#accreditations").inner_text()
    shot(root, screenshot_dir, "admin-trust")
    root.goto("/portal/admin/offices/EP/")
    shot(root, screenshot_dir, "admin-office")
    root.goto("/portal/admin/audit/")
    assert "credential.revoke" in root.locator("#audit-events").inner_text()
    shot(root, screenshot_dir, "admin-audit")

    # --- every main page in French (language switcher) ----------------------------------
    applicant.goto("/portal/")
    applicant.get_by_label("Language").select_option("fr")
    applicant.get_by_role("button", name="Change").click()
    expect(applicant.locator("html")).to_have_attribute("lang", "fr")
    french_pages = {
        "/portal/": "Tableau de bord",
        "/portal/requests/new/": "Demander une attestation",
        request_url.replace(live_server.url, ""): "Données demandées",
        "/portal/mandates/": "Mandats",
        "/portal/mandates/new/": "Accorder un mandat",
        "/portal/wallet/": "Lier mon portefeuille",
        f"/portal/credentials/{document['id']}/": "À propos de cette attestation",
    }
    for path, heading in french_pages.items():
        applicant.goto(path)
        assert applicant.locator("html").get_attribute("lang") == "fr"
        assert heading in applicant.locator("main").inner_text(), path
        name = "fr-" + (path.strip("/").replace("/", "-") or "home")
        shot(applicant, screenshot_dir, re.sub(r"-\d+$", "", name))
    office.get_by_label("Language").select_option("fr")
    office.get_by_role("button", name="Change").click()
    expect(office.locator("html")).to_have_attribute("lang", "fr")
    for path, heading in {
        "/portal/office/EP/queue/": "File d’examen",
        "/portal/office/EP/credentials/": "Attestations délivrées",
        "/portal/tools/resolve/": "Résoudre un DID",
        "/portal/tools/verify/": "Vérifier une attestation ou une présentation",
    }.items():
        office.goto(path)
        assert heading in office.locator("main").inner_text(), path
        shot(office, screenshot_dir, "fr-" + path.strip("/").replace("/", "-"))
    root.get_by_label("Language").select_option("fr")
    root.get_by_role("button", name="Change").click()
    expect(root.locator("html")).to_have_attribute("lang", "fr")
    for path, heading in {
        "/portal/admin/": "Registre de confiance et administration",
        "/portal/admin/offices/EP/": "Clés d’API",
        "/portal/admin/audit/": "Journal d’audit",
    }.items():
        root.goto(path)
        assert heading in root.locator("main").inner_text(), path
        shot(root, screenshot_dir, "fr-" + path.strip("/").replace("/", "-"))
    anonymous = new_page()
    anonymous.goto("/accounts/signup/")
    anonymous.get_by_label("Language").select_option("fr")
    anonymous.get_by_role("button", name="Change").click()
    expect(anonymous.locator("html")).to_have_attribute("lang", "fr")
    for path, heading in {
        "/accounts/signup/": "Créer un compte",
        "/accounts/login/": "Se connecter",
        "/accounts/password-reset/": "Réinitialiser votre mot de passe",
        "/": "Offices participants",
    }.items():
        anonymous.goto(path)
        assert heading in anonymous.locator("main").inner_text(), path
    shot(anonymous, screenshot_dir, "fr-signup")
