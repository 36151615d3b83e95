"""Networks (sandbox.py, harbor.py, images.py): every sandbox has a network namespace of its own, and the
network, where a build step or a task's phase has one, is pasta's user-mode stack, never the host's.

The attacks start real listeners on the host (TCP on its loopback and on its LAN address, an abstract unix
socket) and try to reach them from a build's RUN step and from an episode's commands; each listener also
records whether anything connected, so a probe that "fails" after talking to the host still fails the test.
On the code before this change (builds and allow_internet episodes shared the host's network namespace)
each attack reached its listener. The positive tests check what a networked sandbox still has: an
interface with a default route, the verifier's own phase, and the Debian mirror when the host reaches it."""
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

import harbor
import images
import sandbox
from sandbox import Sandbox

needs_pasta = pytest.mark.skipif(not sandbox.network_available(), reason=(
    "NETWORK NOT TESTED: pasta is not installed (apt-get install passt); .ci/run installs it"))
if not sandbox.network_available():
    print("\n\n*** SKIPPING the network tests that need pasta: apt-get install passt ***\n", flush=True)


class Listener:
    """A host socket that accepts in a thread and records every connection (an attack that arrived)."""

    def __init__(self, family: int, address):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind(address)
        self.sock.listen(8)
        self.address, self.hits = self.sock.getsockname(), []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:                    # closed
                return
            self.hits.append(peer)
            conn.close()

    def close(self):
        self.sock.close()


def lan_address() -> str | None:
    """The host's address on its default route's interface (a UDP connect sends nothing), or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.123", 9))         # any address the default route covers
        return s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()


@pytest.fixture
def loopback():
    listener = Listener(socket.AF_INET, ("127.0.0.1", 0))
    yield listener
    listener.close()


@pytest.fixture
def lan():
    address = lan_address()
    if address is None or address.startswith("127."):
        pytest.skip("this host has no default route, so no LAN address to attack")
    listener = Listener(socket.AF_INET, ("0.0.0.0", 0))   # as a careless service binds
    listener.lan = address
    yield listener
    listener.close()


@pytest.fixture
def abstract():
    listener = Listener(socket.AF_UNIX, f"\0echo-test-{secrets.token_hex(6)}")
    yield listener
    listener.close()


def task(root: Path, toml: str, files: dict[str, str] | None = None) -> harbor.Task:
    path = root / "t"
    for rel, text in {"task.toml": toml, "instruction.md": "Do it.\n",
                      "tests/test.sh": "echo 1 > /logs/verifier/reward.txt\n", **(files or {})}.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    return harbor.load_task(path)


def tcp_probe(host: str, port: int) -> str:
    """A command that connects from inside and prints OPEN or why it could not."""
    return (f"python3 -c \"import socket\ntry:\n socket.create_connection(('{host}', {port}), timeout=3)"
            f"\n print('OPEN')\nexcept OSError as e:\n print('closed', e)\"")


def unix_probe(name: str) -> str:
    return (f"python3 -c \"import socket\ns = socket.socket(socket.AF_UNIX)\ntry:\n s.connect('\\\\0{name}')"
            f"\n print('OPEN')\nexcept OSError as e:\n print('closed', e)\"")


def interfaces(env) -> list[str]:
    return env.run("python3 -c 'import socket; print(*[n for _, n in socket.if_nameindex()])'").output.split()


# ---- attacks from an episode ----------------------------------------------------------------------------

NETWORKED = "[environment]\nallow_internet = true\n"


@needs_pasta
def test_an_episode_with_internet_cannot_reach_the_hosts_loopback(tmp_path, loopback):
    with harbor.start_task(task(tmp_path, NETWORKED)) as env:
        out = env.run(tcp_probe("127.0.0.1", loopback.address[1])).output
        routes = env.run("cat /proc/net/route").output
        gateway = re.search(r"^\S+\s+00000000\s+([0-9A-F]{8})", routes, re.M)[1]    # the default route's
        gateway = socket.inet_ntoa(int(gateway, 16).to_bytes(4, "little"))
        via_gateway = env.run(tcp_probe(gateway, loopback.address[1])).output   # pasta maps it by default
        seen = interfaces(env)
    assert out.startswith("closed") and via_gateway.startswith("closed"), (out, via_gateway)
    assert loopback.hits == []
    assert len(seen) == 2 and seen[0] == "lo"                 # its own loopback and pasta's interface


@needs_pasta
def test_an_episode_with_internet_cannot_reach_the_hosts_ipv6_loopback(tmp_path):
    try:
        listener = Listener(socket.AF_INET6, ("::1", 0))
    except OSError as e:
        pytest.skip(f"this host has no IPv6 loopback ({e})")
    try:
        with harbor.start_task(task(tmp_path, NETWORKED)) as env:
            out = env.run(tcp_probe("::1", listener.address[1])).output
    finally:
        listener.close()
    assert out.startswith("closed"), out
    assert listener.hits == []


@needs_pasta
def test_an_episode_with_internet_cannot_reach_a_hosts_abstract_unix_socket(tmp_path, abstract):
    with harbor.start_task(task(tmp_path, NETWORKED)) as env:
        out = env.run(unix_probe(abstract.address[1:].decode() if isinstance(abstract.address, bytes)
                                 else abstract.address[1:])).output
    assert out.startswith("closed"), out
    assert abstract.hits == []


def test_an_episode_without_internet_has_only_its_own_loopback(tmp_path, loopback, abstract):
    name = abstract.address[1:].decode() if isinstance(abstract.address, bytes) else abstract.address[1:]
    with harbor.start_task(task(tmp_path, "[environment]\nallow_internet = false\n")) as env:
        assert interfaces(env) == ["lo"]
        out = env.run(tcp_probe("127.0.0.1", loopback.address[1]) + "; " + unix_probe(name)).output
    assert out.count("closed") == 2, out
    assert loopback.hits == abstract.hits == []


@needs_pasta
def test_an_episode_with_internet_cannot_reach_the_hosts_lan_address(tmp_path, lan):
    with harbor.start_task(task(tmp_path, NETWORKED)) as env:
        out = env.run(tcp_probe(lan.lan, lan.address[1])).output
    assert out.startswith("closed"), out
    assert lan.hits == []


@pytest.fixture
def second_address():
    """A host service on another address of the host's own (a second one on lo, as docker0's or a VPN's)."""
    address = f"10.213.{secrets.randbelow(200) + 20}.{secrets.randbelow(200) + 20}"
    if subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", "lo"], capture_output=True).returncode:
        pytest.skip("cannot add an address to lo here (not root, or no ip)")
    listener = Listener(socket.AF_INET, (address, 0))
    yield listener
    listener.close()
    subprocess.run(["ip", "addr", "del", f"{address}/32", "dev", "lo"], capture_output=True)


@needs_pasta
def test_an_episode_with_internet_cannot_reach_another_address_of_the_hosts(tmp_path, second_address):
    # pasta connects from a host socket to any address; only 127/8 and the primary one were kept out
    # (rt21b p03): every address of the host's interfaces is unreachable inside
    with harbor.start_task(task(tmp_path, NETWORKED)) as env:
        out = env.run(tcp_probe(second_address.address[0], second_address.address[1])).output
    assert out.startswith("closed"), out
    assert second_address.hits == []


# A TCP SYN to DST:PORT written as a raw Ethernet frame onto the sandbox's interface, addressed to the
# gateway's MAC: it bypasses the sandbox's own routing (which keeps 127.0.0.1 on its loopback) and reaches
# pasta, which opens a connection to whatever address the frame names.
RAW_SYN = """\
import random, socket, struct, sys
dst, port = sys.argv[1], int(sys.argv[2])
ifname = [n for _, n in socket.if_nameindex() if n != "lo"][0]
mac = bytes.fromhex(open(f"/sys/class/net/{ifname}/address").read().strip().replace(":", ""))
route = [l.split() for l in open("/proc/net/route").read().splitlines()[1:] if l.split()[1] == "00000000"]
gw = socket.inet_ntoa(int(route[0][2], 16).to_bytes(4, "little"))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((gw, 9))
s.send(b"x")                                          # the kernel resolves the gateway's MAC (ARP)
src = s.getsockname()[0]
for _ in range(100):
    arp = [l.split()[3] for l in open("/proc/net/arp").read().splitlines()[1:] if l.split()[0] == gw]
    if arp and arp[0] != "00:00:00:00:00:00":
        break
    __import__("time").sleep(0.01)
try:                                                  # first: the frame needs it
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
except OSError as e:
    sys.exit(f"closed {e}")
if not arp:                                           # eth0 does no ARP: pasta's MAC, its one neighbour
    arp = ["9a:55:9a:55:9a:55"]
gwmac = bytes.fromhex(arp[0].replace(":", ""))
def csum(b):
    b += b"\\0" * (len(b) % 2)
    t = sum(struct.unpack(f"!{len(b) // 2}H", b))
    t = (t >> 16) + (t & 0xffff)
    return ~(t + (t >> 16)) & 0xffff
tcp = struct.pack("!HHIIBBHHH", random.randint(20000, 60000), port, 1, 0, 5 << 4, 2, 64240, 0, 0)
pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
raw.bind((ifname, 0))
raw.send(gwmac + mac + b"\\x08\\x00" + ip + tcp)
print("sent")
"""


@needs_pasta
def test_an_episode_cannot_hand_pasta_a_raw_frame_for_the_hosts_loopback(tmp_path, loopback):
    (tmp_path / "raw_syn.py").write_text(RAW_SYN)
    with harbor.start_task(task(tmp_path, NETWORKED)) as env:
        env.copy_in(tmp_path / "raw_syn.py", "/tmp/raw_syn.py")
        out = env.run(f"python3 /tmp/raw_syn.py 127.0.0.1 {loopback.address[1]}").output
        time.sleep(0.5)                                       # pasta connects as the frame arrives
    assert "closed" in out and loopback.hits == [], (out, loopback.hits)


@needs_pasta
def test_ping_works_without_raw_sockets(tmp_path):
    ping = ("python3 -c \"import socket, struct; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, "
            "socket.IPPROTO_ICMP); s.settimeout(2); s.sendto(struct.pack('!BBHHH', 8, 0, 0, 0, 1) + b'hi', "
            "('127.0.0.1', 0)); print(s.recv(64)[0])\"")          # an ICMP echo reply has type 0
    with harbor.start_task(task(tmp_path, NETWORKED)) as env:
        assert env.run(ping).output == "0\n"


# ---- attacks from a build step --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory):
    """An image store holding `tiny:1`: bash (which speaks TCP through /dev/tcp), env and mkdir with their
    libraries, copied from the host. A real image build needs debootstrap; this one takes a second."""
    store = tmp_path_factory.mktemp("store")
    root = store / "tiny_1"
    for prog in ("bash", "env", "mkdir"):
        path = shutil.which(prog)
        ldd = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
        for f in re.findall(r"(/\S+) \(0x", ldd):
            (root / f[1:]).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, root / f[1:])
        for d in ("bin", "usr/bin"):
            (root / d).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, root / d / prog)
    shutil.copy(root / "bin/bash", root / "bin/sh")
    return store


def build(tmp_path, store: Path, run: str, internet: bool = True) -> harbor.SetupError | None:
    """Start a task whose Dockerfile RUNs `run` on tiny:1; the SetupError, or None if it built."""
    images.prepare_cache()
    t = task(tmp_path, "", {"environment/Dockerfile": f"FROM tiny:1\nRUN {run}\n"})
    try:
        harbor.start_task(t, store=store, internet=internet, log=lambda m: None).close()
    except harbor.SetupError as e:
        return e
    return None


@needs_pasta
def test_a_build_run_step_cannot_reach_the_hosts_loopback(tmp_path, tiny_store, loopback):
    error = build(tmp_path, tiny_store, f"echo attack > /dev/tcp/127.0.0.1/{loopback.address[1]}")
    assert error is not None and "line 2: RUN" in str(error), error
    assert loopback.hits == []


@needs_pasta
def test_a_build_run_step_under_no_internet_cannot_reach_the_hosts_lan_address(tmp_path, tiny_store, lan):
    error = build(tmp_path, tiny_store, f"echo attack > /dev/tcp/{lan.lan}/{lan.address[1]}", internet=False)
    assert error is not None and "line 2: RUN" in str(error), error
    assert lan.hits == []


@needs_pasta
def test_a_build_run_step_has_the_network_interface(tmp_path, tiny_store):
    # Positive: the RUN's namespace has pasta's interface (bash reads /proc/net/route: a default route).
    assert build(tmp_path, tiny_store, "while read i d r; do [ $d = 00000000 ] && exit 0; done "
                                       "< /proc/net/route; exit 1") is None


# ---- phases, the trainer's switch and the default -------------------------------------------------------

HAS_NETWORK = ("python3 -c 'import socket, sys; sys.exit(len(socket.if_nameindex()) < 2)' && "
               "echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n")


@needs_pasta
@pytest.mark.parametrize("toml, internet, agent, verifier", [
    ('[agent]\nnetwork_mode = "no-network"\n[verifier]\nnetwork_mode = "public"\n', True, ["lo"], 1.0),
    ('[environment]\nnetwork_mode = "public"\n[verifier]\nnetwork_mode = "no-network"\n', True, 2, 0.0),
    ("[environment]\nallow_internet = true\n", False, ["lo"], 1.0),     # --no-internet: the agent's only
    ("", True, 2, 1.0),                                                   # Harbor's default: on
])
def test_each_phase_gets_its_own_network(tmp_path, toml, internet, agent, verifier):
    t = task(tmp_path, toml, {"tests/test.sh": HAS_NETWORK})
    with harbor.start_task(t, internet=internet) as env:
        seen = interfaces(env)
        assert seen == agent if isinstance(agent, list) else len(seen) == agent
        assert env.verify() == (verifier, "")


@needs_pasta
def test_a_networked_sandbox_has_a_default_route_and_its_pasta_goes_with_it():
    with Sandbox(network=True) as sb:
        assert re.search(r"^\S+\s+00000000\s", sb.run("cat /proc/net/route").output, re.M)
        pasta = sb._net[0]
        assert sandbox.alive(pasta)
        sb.set_network(False)
        # no route out is left: the loopback ranges' unreachable routes (no device, `*`) stay (NETNS)
        routes = sb.run("tail -n +2 /proc/net/route").output.splitlines()
        assert not sandbox.alive(pasta) and all(r.split()[0] == "*" for r in routes), routes
    with Sandbox(network=True) as sb:
        pasta = sb._net[0]
    deadline = time.monotonic() + 5                           # killed at close, not waited for
    while sandbox.alive(pasta) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not sandbox.alive(pasta)


@needs_pasta
def test_the_pasta_of_a_killed_trainer_is_stopped_by_the_next_sandbox():
    # A state directory of our own, which no other process reaps, searchable by the sandbox's root.
    state = Path(tempfile.mkdtemp(prefix="echo-test-state-"))
    state.chmod(0o755)
    code = ("import time, sandbox\n"
            "sb = sandbox.Sandbox(network=True).__enter__(); print(sb._net[0], flush=True); time.sleep(60)\n")
    env = {**os.environ, "TMPDIR": str(state), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    trainer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    pasta = int(trainer.stdout.readline())
    trainer.kill()                            # as kill -9: nothing of it runs its teardown
    trainer.wait()
    assert sandbox.alive(pasta)
    subprocess.run([sys.executable, "-c", "import sandbox; sandbox.Sandbox().__enter__().close()"], env=env,
                   check=True)
    deadline = time.monotonic() + 5
    while sandbox.alive(pasta) and time.monotonic() < deadline:
        time.sleep(0.01)
    sandbox.rmtree(state)
    assert not sandbox.alive(pasta)


@needs_pasta
def test_a_networked_episode_reaches_the_debian_mirror_when_the_host_does(tmp_path):
    try:
        socket.create_connection(("deb.debian.org", 80), timeout=5).close()
    except OSError as e:
        pytest.skip(f"the host itself cannot reach deb.debian.org ({e})")
    with harbor.start_task(task(tmp_path, NETWORKED)) as env:
        assert env.run(tcp_probe("deb.debian.org", 80)).output == "OPEN\n"


def test_without_pasta_network_refuses_to_start_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "network_available", lambda: False)
    with pytest.raises(sandbox.SandboxError, match="apt-get install passt"):
        Sandbox(network=True).__enter__()
    with pytest.raises(harbor.SetupError) as e:
        harbor.start_task(task(tmp_path, NETWORKED))
    assert "passt" in str(e.value) and "\n" not in str(e.value)
    with harbor.start_task(task(tmp_path / "quiet", "")) as env:    # the task sets nothing: no network
        assert interfaces(env) == ["lo"] and env.verifier_network is False


@pytest.mark.parametrize("etc, upstream, chosen", [
    ("nameserver 10.0.0.53\n", "nameserver 9.9.9.9\n", "etc"),
    ("nameserver 127.0.0.53\noptions edns0\n", "nameserver 9.9.9.9\n", "upstream"),   # systemd-resolved
    ("nameserver 127.0.0.53\n", None, "etc"),                                    # nothing better: said once
    ("# no servers\n", "nameserver 9.9.9.9\n", "etc"),
])
def test_the_resolver_is_one_the_sandbox_can_reach(tmp_path, etc, upstream, chosen):
    (tmp_path / "etc").write_text(etc)
    if upstream:
        (tmp_path / "upstream").write_text(upstream)
    assert sandbox.resolver_file(tmp_path / "etc", tmp_path / "upstream") == tmp_path / chosen
