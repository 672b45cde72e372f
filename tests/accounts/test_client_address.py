"""ketaminecare.client: the one answer to "who is the client" for throttles, lockouts, audit and logs."""

import pytest

from ketaminecare.client import address_from_meta

PEER = "10.0.0.7"
SENT = "198.51.100.1, 203.0.113.9"  # a forged first hop, then what the proxy appended


@pytest.mark.parametrize(
    ("proxies", "expected"),
    [(0, PEER), (1, "203.0.113.9"), (2, "198.51.100.1"), (3, "198.51.100.1")],
)
def test_the_client_is_the_hop_the_outermost_trusted_proxy_saw(proxies, expected):
    meta = {"REMOTE_ADDR": PEER, "HTTP_X_FORWARDED_FOR": SENT}
    assert address_from_meta(meta, trusted_proxies=proxies) == expected


def test_with_no_trusted_proxy_the_header_is_ignored_whatever_it_says(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert address_from_meta({"REMOTE_ADDR": PEER, "HTTP_X_FORWARDED_FOR": "1.2.3.4"}) == PEER


def test_a_hop_that_is_not_an_address_falls_back_to_the_peer():
    meta = {"REMOTE_ADDR": PEER, "HTTP_X_FORWARDED_FOR": "1.2.3.4, <script>"}
    assert address_from_meta(meta, trusted_proxies=1) == PEER


def test_no_address_at_all_is_none():
    assert address_from_meta({}, trusted_proxies=0) is None
