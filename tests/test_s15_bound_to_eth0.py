"""A socket of the agent's that picks eth0 itself (SO_BINDTODEVICE, IP_UNICAST_IF, an IP_PKTINFO ifindex on
sendmsg: none needs a capability) skipped the local table's `dev lo` route for 127.0.0.1 and went out to
pasta, which opened a host socket to the HOST's 127.0.0.1 (rt15b p04, p10, p11: datagrams delivered, TCP
connections accepted). The sandbox's main table makes 127/8 unreachable and its eth0 does no ARP
(sandbox.NETNS): such a frame never reaches pasta. Loopback inside the sandbox still works."""
import socket
import threading
import time

import pytest

import harbor
from test_network import NETWORKED, loopback, needs_pasta, task  # noqa: F401 (a fixture)

SEND = """import socket, struct, sys
port = int(sys.argv[1])
for how in ("bind", "unicast_if", "pktinfo"):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        if how == "bind":
            u.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
        elif how == "unicast_if":
            u.setsockopt(socket.IPPROTO_IP, 50, struct.pack("!I", socket.if_nametoindex("eth0")))
        if how == "pktinfo":
            # IP_PKTINFO (8): Python names no constant for it
            info = struct.pack("@i4s4s", socket.if_nametoindex("eth0"), bytes(4), bytes(4))
            u.sendmsg([how.encode()], [(socket.IPPROTO_IP, 8, info)], 0, ("127.0.0.1", port))
        else:
            u.sendto(how.encode(), ("127.0.0.1", port))
    except OSError as e:
        print(how, e)
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
t.settimeout(2)
try:
    t.connect(("127.0.0.1", port))
    print("tcp connected")
except OSError as e:
    print("tcp", e)
print("sent")
"""


class UdpListener:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port, self.got, self.stop = self.sock.getsockname()[1], [], False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while not self.stop:
            try:
                self.got.append(self.sock.recvfrom(64)[0])
            except OSError:
                pass


@needs_pasta
def test_a_socket_bound_to_eth0_cannot_reach_the_hosts_loopback(tmp_path, loopback):  # noqa: F811
    udp = UdpListener()
    (tmp_path / "send.py").write_text(SEND)
    try:
        with harbor.start_task(task(tmp_path, NETWORKED)) as env:
            env.copy_in(tmp_path / "send.py", "/tmp/send.py")
            # one port for both: the TCP listener's; the UDP one on its own port, sent separately below
            out = env.run(f"python3 /tmp/send.py {udp.port}; python3 /tmp/send.py {loopback.address[1]}",
                          timeout=30).output
            assert "sent" in out, out
            assert env.run("python3 -c 'import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); "
                           "s.listen(); socket.create_connection(s.getsockname()).close()'").exit_code == 0
            time.sleep(0.5)                                   # pasta forwards as the frames arrive
    finally:
        udp.stop = True
    assert udp.got == [] and loopback.hits == [], (udp.got, loopback.hits, out)
