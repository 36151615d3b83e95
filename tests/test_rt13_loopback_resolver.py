"""No loopback nameserver reaches a sandbox (rt13a p18): an address on the sandbox's own loopback is one a
surviving process of the agent's can bind and answer every name the verifier resolves; with none left,
glibc would ask 127.0.0.1, so a nameserver routed nowhere stands in (sandbox.NO_DNS)."""
import sandbox


def test_loopback_nameservers_are_dropped(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text("search example\nnameserver 127.0.0.11\nnameserver 10.0.0.2\nnameserver ::1\n")
    text = sandbox.sandbox_resolver(conf).read_text()
    assert "nameserver 10.0.0.2" in text and "127.0.0.11" not in text and "::1" not in text
    assert "search example" in text


def test_only_loopback_ones_leave_one_routed_nowhere(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 127.0.0.1\n")
    text = sandbox.sandbox_resolver(conf).read_text()
    assert "127.0.0.1" not in text and sandbox.NO_DNS in text


def test_a_host_file_without_loopback_is_bound_as_it_is(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 10.0.0.2\n")
    assert sandbox.sandbox_resolver(conf) == conf
