"""A registry at one of this host's own addresses is this host (rt11b p06): `FROM <the host's public
address>:port/x` had the trainer, as root, connect to a service the host listens with on 0.0.0.0, which
loopback's refusal was meant to keep it from. The guard refuses the host's own addresses as it refuses
loopback, unless --registry-net names them. Before, allowed() said yes to a public address of the host."""
import ipaddress

import registry

OWN = ipaddress.ip_address("203.0.113.80")     # stands for the host's public address (a test network)


def guard(monkeypatch, nets=()):
    monkeypatch.setattr(registry, "host_addresses", lambda: {OWN})
    monkeypatch.setattr(registry, "_kind", lambda ip: None)     # as if 203.0.113.80 were public
    return registry._Guard("x", nets)


def test_the_host_s_own_public_address_is_refused(monkeypatch):
    assert not guard(monkeypatch).allowed(OWN)
    assert not guard(monkeypatch).allowed(ipaddress.ip_address("::ffff:203.0.113.80"))


def test_another_public_address_and_a_named_network_are_allowed(monkeypatch):
    assert guard(monkeypatch).allowed(ipaddress.ip_address("203.0.113.81"))
    assert guard(monkeypatch, nets=("203.0.113.80/32",)).allowed(OWN)


def test_the_host_s_addresses_include_loopback():
    assert ipaddress.ip_address("127.0.0.1") in registry.host_addresses()
