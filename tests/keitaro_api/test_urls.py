import pytest

from keitaro_api import InvalidTrackerURL, api_base, display_url, normalize_tracker_url

IDN_ROOT = "https://xn--e1aaowdh.xn--p1ai"  # трекер.рф


@pytest.mark.parametrize(
    ("typed", "root"),
    [
        ("tracker.example.com", "https://tracker.example.com"),
        ("https://tracker.example.com", "https://tracker.example.com"),
        ("https://tracker.example.com/", "https://tracker.example.com"),
        ("https://tracker.example.com///", "https://tracker.example.com"),
        ("http://1.2.3.4:8080", "http://1.2.3.4:8080"),
        ("1.2.3.4:8080", "https://1.2.3.4:8080"),
        ("https://t.example.com/admin_api/v1/", "https://t.example.com"),
        ("https://t.example.com/admin_api/v1", "https://t.example.com"),
        ("https://t.example.com/admin_api", "https://t.example.com"),
        ("https://t.example.com/admin_api/v1/campaigns/42", "https://t.example.com"),
        ("https://t.example.com/admin/", "https://t.example.com"),
        ("https://t.example.com/admin", "https://t.example.com"),
        ("https://t.example.com/admin/index.php", "https://t.example.com"),
        ("https://t.example.com/admin/#!/campaigns", "https://t.example.com"),
        ("https://t.example.com/sub", "https://t.example.com/sub"),
        ("https://t.example.com/sub/", "https://t.example.com/sub"),
        ("https://t.example.com/sub/admin_api/v1", "https://t.example.com/sub"),
        ("  https://t.example.com  \n", "https://t.example.com"),
        ("<https://t.example.com/admin/>", "https://t.example.com"),
        (" < t.example.com > ", "https://t.example.com"),
        ("HTTPS://T.EXAMPLE.COM/ADMIN/", "https://t.example.com"),
        ("HTTP://Tracker.Example.com:8080", "http://tracker.example.com:8080"),
        ("https://трекер.рф", IDN_ROOT),
        ("трекер.рф/admin/", IDN_ROOT),
        ("https://ТРЕКЕР.РФ/", IDN_ROOT),
        ("https://t.example.com:443/", "https://t.example.com"),
        ("http://t.example.com:80/", "http://t.example.com"),
        ("https://t.example.com:80", "https://t.example.com:80"),
        ("http://t.example.com:443", "http://t.example.com:443"),
        ("https://t.example.com/?utm=1#frag", "https://t.example.com"),
        ("https://t.example.com/admin_api/v1/campaigns?limit=10", "https://t.example.com"),
        ("http://[2001:db8::1]:8080/admin/", "http://[2001:db8::1]:8080"),
        ("https://t.example.com.", "https://t.example.com"),
        ("localhost:8080", "https://localhost:8080"),
    ],
)
def test_normalize_accepts_what_users_type(typed: str, root: str) -> None:
    assert normalize_tracker_url(typed) == root


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("<>", "empty"),
        ("tracker example.com", "spaces"),
        ("https://tracker .example.com/", "spaces"),
        ("ftp://tracker.example.com", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("mailto:admin@example.com", "only http and https"),
        ("https://user:pass@tracker.example.com", "user:password"),
        ("https://user@tracker.example.com", "user:password"),
        ("https://", "missing host"),
        ("https:///admin", "missing host"),
        ("https://tracker.example.com:99999", "port out of range"),
        ("https://tracker.example.com:0", "port out of range"),
        ("https://tracker.example.com:abc", "port"),
        ("https://t.example.com/" + "a" * 2100, "too long"),
        ("https://t.example.com/\x00", "control characters"),
        ("https://t.exa\u200bmple.com", "control characters"),
        ("https://-bad-.example.com", "host"),
        ("https://exa mple", "spaces"),
        ("http://127.1", "IP address"),
        ("http://2130706433", "IP address"),
        ("http://[::zz]/", "IPv6"),
    ],
)
def test_normalize_refuses_garbage_with_a_reason(typed: str, reason: str) -> None:
    with pytest.raises(InvalidTrackerURL, match=reason):
        normalize_tracker_url(typed)


def test_invalid_tracker_url_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        normalize_tracker_url("ftp://x.example")


def test_api_base_appends_the_admin_api_path() -> None:
    assert api_base("https://t.example.com") == "https://t.example.com/admin_api/v1"
    assert api_base("https://t.example.com/sub") == "https://t.example.com/sub/admin_api/v1"


@pytest.mark.parametrize(
    ("root", "shown"),
    [
        (IDN_ROOT, "https://трекер.рф"),
        (IDN_ROOT + ":8443/sub", "https://трекер.рф:8443/sub"),
        ("https://t.example.com", "https://t.example.com"),
        ("http://1.2.3.4:8080", "http://1.2.3.4:8080"),
    ],
)
def test_display_url_shows_idn_hosts_in_unicode(root: str, shown: str) -> None:
    assert display_url(root) == shown


def test_normalize_is_idempotent() -> None:
    for typed in ("трекер.рф/admin", "HTTP://T.example.com:8080/sub/admin_api/v1/", "1.2.3.4"):
        root = normalize_tracker_url(typed)
        assert normalize_tracker_url(root) == root
        assert normalize_tracker_url(display_url(root)) == root


@pytest.mark.parametrize(
    "pasted",
    [
        '"https://t.example.com"',
        "'https://t.example.com/'",
        "«t.example.com»",
        "“https://t.example.com”",
    ],
)
def test_quotes_around_a_pasted_address_are_dropped(pasted: str) -> None:
    assert normalize_tracker_url(pasted) == "https://t.example.com"
