"""Helpers for the community journeys: their own communities, people and posts, and browsers of their own.

A journey module describes its world in a short Python script (:func:`register_world`, at import) and
reads what it made with :func:`world_of`. The scripts of every module run once, together, in one
``manage.py shell`` on the live server's database (its start-up costs seconds), each on top of
:data:`PRELUDE`, which gives it:

* ``token``: a random word of the world, in every name, title and handle it makes, so the journeys run
  in any order beside the demo data and the other journeys;
* ``community(name, visibility="public")``: a community as staff create one in the admin;
* ``moderator(name)``: a community moderator with an authenticator (``show``-n as ``name``: username and
  secret, for :func:`tests.browser.support.sign_in_with_code`). One per journey that signs one in: a code
  is good once in its 30 s window;
* ``member(community, prefix)``: a long-standing patient (no new-account hold) with a community name
  ``<prefix>_<token>``, an active member of ``community`` (a private one: their request approved);
* ``published(post)``: the post, published (a member's first post waits for a moderator; the set-up's
  own moderator approves it), so the member's later posts publish at once;
* ``show(key, *values)``: hands values back to the journey (:func:`world_of` returns them).
"""

from __future__ import annotations

import contextlib
import re
import uuid

from playwright.sync_api import Page

from tests.browser.support import DEMO_PASSWORD, assert_no_csp_violations, check_page, watch_console

PRELUDE = """
import datetime, uuid
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from portal_social.community import actions
from portal_social.community.models import Community, Membership, Post
from portal_social.core import roles

User = get_user_model()


def show(key, *values):
    print("@@", world, key, *values, sep="\\t")


# Hashed once: hashing is deliberately slow, and a journey makes many people.
_password_hash = make_password(password)


def person(prefix, role):
    username = prefix + "-" + uuid.uuid4().hex[:8]
    user = User.objects.create_user(username=username, email=username + "@example.org")
    user.password = _password_hash
    user.date_joined = timezone.now() - datetime.timedelta(days=400)  # a long-standing account: no hold
    user.save(update_fields=["date_joined", "password"])
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    roles.grant_role(user=user, role=role)
    return user


def moderator(name):
    user = person("moderator", roles.COMMUNITY_MODERATOR)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    show(name, user.username, secret)
    return user


_setup_moderator = person("moderator", roles.COMMUNITY_MODERATOR)


def community(name, visibility="public"):
    return Community.objects.create(
        name=name + " " + token,
        slug=re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:30] + "-" + token,
        visibility=visibility,
        description="People living with the same condition, and their carers.",
        guidelines="Be kind. Share experiences, not medical advice.",
    )


def member(place, prefix):
    user = person(prefix, roles.PATIENT)
    actions.set_handle(user=user, handle=prefix + "_" + token)
    membership = actions.join(user=user, community=place)
    if membership.status == Membership.Status.REQUESTED:
        actions.decide_join_request(moderator=_setup_moderator, membership=membership, approve=True)
    return user


def published(post):
    if post.status == Post.Status.HELD:
        actions.approve_post(moderator=_setup_moderator, post=post)
        post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED, post.hold_reasons
    return post


def thread_path(thread):
    return "/community/%s/t/%s/" % (thread.community.slug, thread.pk)
"""


#: The worlds the journey modules registered: name -> script.
_scripts: dict[str, str] = {}
#: What each live portal's worlds showed: base URL -> name -> world.
_built: dict[str, dict[str, dict]] = {}


def register_world(name: str, script: str) -> None:
    """Declare a journey module's world (at import): ``script`` runs on top of :data:`PRELUDE`."""
    _scripts[name] = script


def world_of(live_portal, name: str) -> dict:
    """The world ``name`` on ``live_portal``: ``{"token": ..., key: value}`` for each ``show(key, value)``
    (``key: (values...)`` when it showed several). Every registered world is built at the first call."""
    built = _built.setdefault(live_portal.base_url, {})
    if name not in built:
        built.update(_build(live_portal, {n: script for n, script in _scripts.items() if n not in built}))
    return built[name]


def _build(live_portal, scripts: dict[str, str]) -> dict[str, dict]:
    tokens = {name: uuid.uuid4().hex[:8] for name in scripts}
    code = [f"import re\npassword = {DEMO_PASSWORD!r}\n", PRELUDE]
    for name, script in scripts.items():
        code.append(f"\nworld, token = {name!r}, {tokens[name]!r}\n{script}")
    out = live_portal.manage("shell", "-c", "".join(code)).stdout
    worlds: dict[str, dict] = {name: {"token": token} for name, token in tokens.items()}
    for line in out.splitlines():
        if line.startswith("@@\t"):
            _marker, name, key, *values = line.split("\t")
            worlds[name][key] = values[0] if len(values) == 1 else tuple(values)
    return worlds


@contextlib.contextmanager
def browser_of_their_own(browser, live_portal):
    """A page in a new browser context (its own cookies): one person of a journey, beside the others."""
    context = browser.new_context(base_url=live_portal.base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        watch_console(page)
        yield page
    finally:
        context.close()


def open_again(page: Page, path: str, *, status: int = 200) -> None:
    """Open ``path`` without another axe run: for a page this journey already checked once."""
    response = page.goto(path)
    assert response is not None and response.status == status, f"{path} answered {response and response.status}"
    page.wait_for_load_state("load")
    assert_no_csp_violations(page)


def press(page: Page, button, *, check: bool = False) -> None:
    """Click ``button`` (a locator, or the accessible name of a button on the page) and wait for the next page.

    ``check=True`` runs :func:`check_page` (axe) on it; otherwise only CSP is checked.
    """
    if isinstance(button, str):
        button = page.get_by_role("button", name=button, exact=True)
    with page.expect_navigation():
        button.click()
    if check:
        check_page(page)
    else:
        page.wait_for_load_state("load")
        assert_no_csp_violations(page)


def article_by(page: Page, handle: str):
    """The post on a thread page whose author is ``handle`` (posts are articles named by their author)."""
    return page.get_by_role("article", name=handle, exact=True)


def status_message(page: Page, text: str):
    """The confirmation a page shows after a form was sent (Django's messages, in a status region)."""
    return page.get_by_role("status").filter(has_text=text)


POST_ID = re.compile(r"[?&]posted=([0-9a-f-]{36})")


_SPACE_COLLEAGUES = """
import uuid
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from portal_social.community import actions
from portal_social.community.actions import spaces
from portal_social.community.models import Community
from portal_social.core import roles

User = get_user_model()
owner = User.objects.get(username="clinician1")
space = Community.objects.get(slug=%(space)r)
for key, first, last, handle in %(people)r:
    username = "clinician-" + uuid.uuid4().hex[:8]
    user = User.objects.create_user(
        username=username, email=username + "@example.org", password=%(password)r, first_name=first, last_name=last
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    roles.grant_role(user=user, role=roles.CLINICIAN)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    if handle:
        actions.set_handle(user=user, handle=handle)
    spaces.add_member(actor=owner, space=space, user=user)  # as the owner does on the members page
    print("@@", key, username, secret, handle or "-")
"""


def space_colleagues(live_portal, space: str, people) -> dict[str, tuple[str, str, str]]:
    """Clinicians of the journey's own, with enrolled authenticators, added to the demo space ``space`` by its
    owner clinician1 (the demo's clinicians are never enrolled: other journeys rely on that). ``people``:
    (key, first name, last name, community name or "" to choose it in the journey). Returns key ->
    (username, authenticator secret, community name or "-")."""
    code = _SPACE_COLLEAGUES % {"space": space, "people": tuple(people), "password": DEMO_PASSWORD}
    out = live_portal.manage("shell", "-c", code).stdout
    found = {
        key: (username, secret, handle)
        for key, username, secret, handle in re.findall(r"^@@ (\w+) (\S+) (\S+) (\S+)$", out, re.MULTILINE)
    }
    assert set(found) == {person[0] for person in people}, f"the colleagues were not created:\n{out}"
    return found
