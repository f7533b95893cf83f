"""The client's address: X-Forwarded-For only through a trusted proxy, and never a forged entry."""

import pytest
from django.test import RequestFactory

from portal_social import checks as portal_checks
from portal_social.core import audit, network
from portal_social.core.accounts import PortalAccountAdapter

PROXY = "10.0.0.7"


def request(remote="203.0.113.9", forwarded=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = []
    assert network.client_ip(request(PROXY, "198.51.100.1")) == PROXY


def test_header_from_an_untrusted_sender_is_ignored(settings):
    # A client talking to the portal directly cannot choose its address.
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert network.client_ip(request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_through_a_trusted_proxy_the_client_it_saw_is_used(settings):
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert network.client_ip(request(PROXY, "198.51.100.1")) == "198.51.100.1"


def test_entries_the_client_wrote_are_skipped(settings):
    # The client sent "X-Forwarded-For: 192.0.2.66"; the proxy appended the
    # address it really saw. Only the right-most untrusted entry counts.
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = [PROXY]
    assert network.client_ip(request(PROXY, "192.0.2.66, 198.51.100.1")) == "198.51.100.1"


def test_a_chain_of_trusted_proxies_is_walked(settings):
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = "10.0.0.0/8, 172.16.0.0/12"
    assert network.client_ip(request(PROXY, "192.0.2.66, 198.51.100.1, 172.16.4.4, 10.1.1.1")) == "198.51.100.1"


def test_a_request_from_inside_the_proxy_network_keeps_the_leftmost_hop(settings):
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert network.client_ip(request(PROXY, "10.9.9.9, 10.1.1.1")) == "10.9.9.9"
    assert network.client_ip(request(PROXY)) == PROXY


def test_a_malformed_entry_ends_the_walk_at_the_last_trusted_hop(settings):
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert network.client_ip(request(PROXY, "198.51.100.1, not-an-address, 10.1.1.1")) == "10.1.1.1"


@pytest.mark.parametrize(
    ("entry", "address"),
    [
        ("198.51.100.1:4711", "198.51.100.1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("::ffff:198.51.100.1", "198.51.100.1"),
        ("fe80::1%eth0", "fe80::1"),
    ],
)
def test_forms_load_balancers_write_are_normalised(settings, entry, address):
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = [PROXY]
    assert network.client_ip(request(PROXY, entry)) == address


def test_ipv6_proxies_are_matched(settings):
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = ["2001:db8:ffff::/48"]
    assert network.client_ip(request("2001:db8:ffff::10", "2001:db8:1::5")) == "2001:db8:1::5"


def test_no_address_at_all_is_none(settings):
    assert network.client_ip(None) is None
    assert network.client_ip(request("")) is None


@pytest.mark.django_db
def test_audit_and_allauth_read_the_same_address(settings, make_user):
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = ["10.0.0.0/8"]
    through_proxy = request(PROXY, "198.51.100.1")
    through_proxy.user = make_user()
    assert audit.client_ip(through_proxy) == "198.51.100.1"
    assert PortalAccountAdapter(through_proxy).get_client_ip(through_proxy) == "198.51.100.1"
    assert audit.record("phi.read", request=through_proxy).ip_address == "198.51.100.1"
    spoofed = request("203.0.113.9", "198.51.100.1")
    assert audit.client_ip(spoofed) == "203.0.113.9"
    assert PortalAccountAdapter(spoofed).get_client_ip(spoofed) == "203.0.113.9"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (["10.0.0.0/8", "not-a-network"], "'not-a-network' is not an IP address or network"),
        (["10.0.0.1/8"], "'10.0.0.1/8' is not an IP address or network"),
        ("10.0.0.0/8,0.0.0.0/0", "'0.0.0.0/0' trusts every address"),
        (["::/0"], "'::/0' trusts every address"),
        (42, "not a list or a comma-separated string"),
    ],
)
def test_malformed_trusted_proxies_is_an_error_with_a_hint(settings, value, fragment):
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = value
    [error] = portal_checks.check_trusted_proxies()
    assert error.id == "portal_social.E016"
    assert fragment in error.msg
    assert "CIDR" in error.hint


@pytest.mark.parametrize("value", [[], "", "10.0.0.0/8, 2001:db8::/32", ["10.0.0.7"]])
def test_well_formed_trusted_proxies_pass(settings, value):
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = value
    assert portal_checks.check_trusted_proxies() == []


def test_a_malformed_entry_never_widens_trust(settings):
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = ["not-a-network", "0.0.0.0/0"]
    assert network.client_ip(request(PROXY, "198.51.100.1")) == PROXY


def _production_shell(code, **env_overrides):
    """Run ``code`` in ``manage.py shell`` under the production settings, environment as given."""
    import os
    import secrets
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="example_site.settings.production",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="portal.example.org",
        DATABASE_URL="postgres://portal:secret@127.0.0.1:5432/portal",
        REDIS_URL="redis://127.0.0.1:6379/0",
        PORTAL_SOCIAL_ENCRYPTION_KEYS="dGhpcy1pcy1hLXRlc3Qtb25seS1rZXktMzItYnl0ZXM=",
        **env_overrides,
    )
    example_site = Path(__file__).resolve().parents[2] / "example_site"
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=example_site,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_reads_trusted_proxies_from_the_environment():
    code = "from portal_social.conf import app_settings; print(app_settings.TRUSTED_PROXIES)"
    result = _production_shell(code, PORTAL_SOCIAL_TRUSTED_PROXIES="10.0.1.0/24, 10.0.2.5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('10.0.1.0/24', '10.0.2.5')"
    unset = _production_shell(code)
    assert unset.stdout.strip() == "()"


def test_production_with_a_malformed_proxy_fails_check_e016():
    code = "from portal_social.checks import check_trusted_proxies; print([e.id for e in check_trusted_proxies()])"
    result = _production_shell(code, PORTAL_SOCIAL_TRUSTED_PROXIES="10.0.1.0/24,10.0.0.300")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['portal_social.E016']"
