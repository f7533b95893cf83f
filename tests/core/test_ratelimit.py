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


def _post_from(address, user, **extra):
    request = RequestFactory().post("/", REMOTE_ADDR=address, **extra)
    request.user = user
    return request


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["review", "flag"])
def test_people_sharing_an_address_each_keep_their_own_limit(make_user, settings, action):
    # A hospital's guest network: everyone shares one address. One person
    # using up their reviews or reports must not use up anybody else's.
    settings.PORTAL_SOCIAL_RATE_LIMITS = {action: "2/d,1000/d/ip"}
    first = make_user(roles.PATIENT)
    for _ in range(2):
        ratelimit.check(action, request=_post_from("198.51.100.7", first), user=first)
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check(action, request=_post_from("198.51.100.7", first), user=first)
    for _ in range(5):
        neighbour = make_user(roles.PATIENT)
        ratelimit.check(action, request=_post_from("198.51.100.7", neighbour), user=neighbour)


@pytest.mark.django_db
@pytest.mark.parametrize("action", sorted(set(ratelimit.DEFAULT_LIMITS) - {ratelimit.SIGN_IN_SPRAY}))
def test_default_limits_are_per_person_with_a_generous_address_backstop(action):
    [person, address] = ratelimit.limits_for(action)
    assert person.per == "user"
    assert address.per == "ip"
    assert address.rate.seconds == person.rate.seconds
    assert address.rate.amount >= 30 * person.rate.amount


@pytest.mark.django_db
def test_address_backstop_stops_one_client_cycling_through_accounts(make_user, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"flag": "5/m,3/m/ip"}
    for _ in range(3):
        ratelimit.check("flag", request=_post_from("198.51.100.7", make_user(roles.PATIENT)))
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check("flag", request=_post_from("198.51.100.7", make_user(roles.PATIENT)))
    # Another address is unaffected.
    ratelimit.check("flag", request=_post_from("198.51.100.8", make_user(roles.PATIENT)))


@pytest.mark.django_db
def test_backstop_counts_the_client_behind_a_trusted_proxy_and_ignores_forged_headers(make_user, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"flag": "5/m,2/m/ip"}
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = ["10.0.0.0/8"]
    # Through the load balancer, clients are told apart.
    for client in range(4):
        request = _post_from("10.0.0.7", make_user(roles.PATIENT), HTTP_X_FORWARDED_FOR=f"198.51.100.{client}")
        ratelimit.check("flag", request=request)
    # Straight to a worker, a forged header does not buy a fresh count.
    for forged in range(2):
        request = _post_from("203.0.113.9", make_user(roles.PATIENT), HTTP_X_FORWARDED_FOR=f"192.0.2.{forged}")
        ratelimit.check("flag", request=request)
    request = _post_from("203.0.113.9", make_user(roles.PATIENT), HTTP_X_FORWARDED_FOR="192.0.2.99")
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check("flag", request=request)


@pytest.mark.django_db
def test_ipv6_clients_are_counted_per_64(make_user, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"flag": "5/m,2/m/ip"}
    for host in (1, 2):
        ratelimit.check("flag", request=_post_from(f"2001:db8:1:2::{host}", make_user(roles.PATIENT)))
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check("flag", request=_post_from("2001:db8:1:2::ffff", make_user(roles.PATIENT)))


@pytest.mark.django_db
def test_signed_out_attempts_count_per_address(settings):
    from django.contrib.auth.models import AnonymousUser

    settings.PORTAL_SOCIAL_RATE_LIMITS = {"feedback": "2/h,100/h/ip"}
    for _ in range(2):
        ratelimit.check("feedback", request=_post_from("198.51.100.7", AnonymousUser()))
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check("feedback", request=_post_from("198.51.100.7", AnonymousUser()))


@pytest.mark.django_db
def test_distinct_members_count_once_each(settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"sign_in_spray": "3/h/ip"}
    request = _post_from("198.51.100.7", None)
    for _ in range(10):
        ratelimit.count_distinct("sign_in_spray", request=request, member="same-account")
    assert ratelimit.distinct_wait("sign_in_spray", request=request) is None
    ratelimit.count_distinct("sign_in_spray", request=request, member="second")
    ratelimit.count_distinct("sign_in_spray", request=request, member="third")
    assert 1 <= ratelimit.distinct_wait("sign_in_spray", request=request) <= 3601
    assert ratelimit.distinct_wait("sign_in_spray", request=_post_from("198.51.100.8", None)) is None
    ratelimit.reset("sign_in_spray", ip="198.51.100.7")
    assert ratelimit.distinct_wait("sign_in_spray", request=request) is None


@pytest.mark.parametrize(
    ("text", "limits"),
    [
        ("5/d", (ratelimit.Limit(ratelimit.Rate(5, 86400), "user"),)),
        (
            "5/d, 1000/d/ip",
            (ratelimit.Limit(ratelimit.Rate(5, 86400), "user"), ratelimit.Limit(ratelimit.Rate(1000, 86400), "ip")),
        ),
        ("3/15m/user", (ratelimit.Limit(ratelimit.Rate(3, 900), "user"),)),
    ],
)
def test_parse_limits(text, limits):
    assert ratelimit.parse_limits(text) == limits


@pytest.mark.parametrize("text", ["5/d/key", "5/d,", "5/d/ip/ip", "ip"])
def test_malformed_limits_are_refused_clearly(text):
    with pytest.raises(ValueError, match="Malformed rate"):
        ratelimit.parse_limits(text)


@pytest.mark.django_db
def test_reset_unlocks(make_user, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"review": "1/d,1/d/ip"}
    user = make_user(roles.PATIENT)
    ratelimit.check("review", request=_post_from("198.51.100.7", user))
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check("review", request=_post_from("198.51.100.7", user))
    ratelimit.reset("review", user=user, ip="198.51.100.7")
    ratelimit.check("review", request=_post_from("198.51.100.7", user))


@pytest.mark.django_db
def test_unknown_action_is_not_limited(make_user, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"feedback": "1/h,1/h/ip"}
    user = make_user(roles.PATIENT)
    assert ratelimit.limits_for("something-else") == ()
    for _ in range(50):
        assert ratelimit.check("something-else", request=_post_from("198.51.100.7", user)) is None
    # The same person and address are limited on an action that has a limit.
    ratelimit.check("feedback", request=_post_from("198.51.100.7", user))
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check("feedback", request=_post_from("198.51.100.7", user))


@pytest.mark.parametrize(("seconds", "text"), [(30, "30 seconds"), (60, "a minute"), (600, "10 minutes")])
def test_message_says_how_long_to_wait(seconds, text):
    assert text in ratelimit.RateLimited(seconds).message


@pytest.mark.django_db
def test_counts_added_in_a_request_can_be_given_back(make_user, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"feedback": "2/h,3/h/ip"}
    user = make_user(roles.PATIENT)
    with ratelimit.charges_for_request() as charges:
        ratelimit.check("feedback", request=_post_from("198.51.100.7", user), user=user)
        ratelimit.check("feedback", request=_post_from("198.51.100.7", user), user=user)
        assert len(charges.keys) == 4  # the person's count and the address's, twice
        assert charges.refund() == 4
        assert charges.keys == []
    # Both limits are whole again: two more attempts pass, the third is refused.
    for _ in range(2):
        ratelimit.check("feedback", request=_post_from("198.51.100.7", user), user=user)
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check("feedback", request=_post_from("198.51.100.7", user), user=user)


@pytest.mark.django_db
def test_outside_a_request_counts_are_not_remembered(make_user, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"feedback": "1/h"}
    user = make_user(roles.PATIENT)
    ratelimit.check("feedback", user=user)
    assert ratelimit.refund_current() == 0
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check("feedback", user=user)


@pytest.mark.django_db
def test_a_refund_after_the_window_ended_gives_nothing_back(make_user, settings):
    from django.core.cache import cache

    settings.PORTAL_SOCIAL_RATE_LIMITS = {"feedback": "1/h"}
    user = make_user(roles.PATIENT)
    with ratelimit.charges_for_request() as charges:
        ratelimit.check("feedback", user=user)
        cache.clear()  # the window's count expired meanwhile
        assert charges.refund() == 0


def test_each_tests_limiter_clock_starts_mid_window():
    # tests/conftest.py: a count up to a limit never straddles a window's turn.
    now = ratelimit.time.time()
    assert 30 <= now % 60 < 40
    assert 1830 <= now % 3600 < 1840
