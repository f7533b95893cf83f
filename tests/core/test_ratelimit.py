import pytest
from django.test import RequestFactory

from portal_social.core import ratelimit, roles


@pytest.mark.parametrize(
    ("text", "amount", "seconds"), [("5/m", 5, 60), ("20/15m", 20, 900), ("1/d", 1, 86400), ("3/10s", 3, 10)]
)
def test_parse_rate(text, amount, seconds):
    assert ratelimit.parse_rate(text) == ratelimit.Rate(amount, seconds)


@pytest.mark.parametrize("text", ["", "5", "five/m", "5/x", "0/m", "5/0m", "5/m/ip"])
def test_malformed_rates_are_refused_clearly(text):
    with pytest.raises(ValueError, match="Malformed rate"):
        ratelimit.parse_rate(text)


@pytest.mark.django_db
def test_user_is_limited_with_time_to_wait(make_user, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"feedback": "3/h"}
    user = make_user(roles.PATIENT)
    for _ in range(3):
        ratelimit.check("feedback", user=user)
    with pytest.raises(ratelimit.RateLimited) as excinfo:
        ratelimit.check("feedback", user=user)
    assert 1 <= excinfo.value.retry_after <= 3601
    assert "Please try again in" in excinfo.value.message
    # Someone else is unaffected.
    ratelimit.check("feedback", user=make_user(roles.PATIENT))


@pytest.mark.django_db
def test_ip_is_limited_across_accounts(make_user, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"flag": "2/m"}
    factory = RequestFactory()
    for _ in range(2):
        request = factory.post("/", REMOTE_ADDR="198.51.100.7")
        request.user = make_user(roles.PATIENT)
        ratelimit.check("flag", request=request)
    request = factory.post("/", REMOTE_ADDR="198.51.100.7")
    request.user = make_user(roles.PATIENT)
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check("flag", request=request)


@pytest.mark.django_db
def test_reset_unlocks(make_user, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"review": "1/d"}
    user = make_user(roles.PATIENT)
    ratelimit.check("review", user=user)
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check("review", user=user)
    ratelimit.reset("review", user=user)
    ratelimit.check("review", user=user)


def test_unknown_action_is_not_limited():
    ratelimit.check("something-else")


@pytest.mark.parametrize(("seconds", "text"), [(30, "30 seconds"), (60, "a minute"), (600, "10 minutes")])
def test_message_says_how_long_to_wait(seconds, text):
    assert text in ratelimit.RateLimited(seconds).message
