"""The client's address: X-Forwarded-For counts only as far as our own proxies wrote it."""

import pytest
from django.test import RequestFactory

from segapp.client_ip import client_ip

SPOOFED = "198.51.100.66"


def request(forwarded=None, peer="10.0.0.2"):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return RequestFactory().get("/", REMOTE_ADDR=peer, headers=headers)


def test_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.TRUSTED_PROXIES = 0
    assert client_ip(request(SPOOFED, peer="203.0.113.7")) == "203.0.113.7"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, f"{SPOOFED}, 203.0.113.7", "203.0.113.7"),  # the hop our one proxy added
        (1, "203.0.113.7", "203.0.113.7"),
        (2, f"{SPOOFED}, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (2, "203.0.113.7", "203.0.113.7"),  # came in through the inner proxy only
        (1, None, "10.0.0.2"),  # no header: the peer
        (1, "not-an-address", "10.0.0.2"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_forwarded_for_counts_from_the_right_through_trusted_proxies(
    settings, proxies, forwarded, expected
):
    settings.TRUSTED_PROXIES = proxies
    assert client_ip(request(forwarded)) == expected


def test_a_wsgi_environ_works_too(settings):
    settings.TRUSTED_PROXIES = 1
    environ = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": f"{SPOOFED}, 203.0.113.7"}
    assert client_ip(environ) == "203.0.113.7"
