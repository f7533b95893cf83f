"""The tests' authenticator codes never straddle a window boundary."""

from tests import totp


def test_a_code_taken_in_a_windows_last_seconds_is_the_next_windows(monkeypatch):
    clock = {"now": 1_000 * totp.TOTP_PERIOD + totp.TOTP_PERIOD - 1.0}  # one second left
    monkeypatch.setattr(totp.time, "time", lambda: clock["now"])
    monkeypatch.setattr(totp.time, "sleep", lambda s: clock.__setitem__("now", clock["now"] + s))

    code, counter = totp.fresh_totp_code("JBSWY3DPEHPK3PXP")

    assert counter == 1_001
    assert code == totp.totp_code("JBSWY3DPEHPK3PXP", counter=1_001)
    assert code != totp.totp_code("JBSWY3DPEHPK3PXP", counter=1_000)


def test_a_code_with_time_left_is_the_current_windows_at_once(monkeypatch):
    monkeypatch.setattr(totp.time, "time", lambda: 1_000 * totp.TOTP_PERIOD + 5.0)
    monkeypatch.setattr(totp.time, "sleep", lambda s: (_ for _ in ()).throw(AssertionError("slept")))

    assert totp.fresh_totp_code("JBSWY3DPEHPK3PXP")[1] == 1_000
