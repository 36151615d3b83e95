"""An fd of the verifier's own mounts handed to a survivor (rt11a p01, p16): a check runs the agent's code
inside the verifier's mount namespace, and that code can open `/tests` or `/logs/verifier` with O_PATH (no
permission needed) and send the fd over a unix socket to a process the agent left running, which is root
with Docker's capabilities. The agent's Landlock domain allows file access only beneath its own root, as its
mount namespace reaches it (sandbox_init._landlock_domain(beneath="/")): through such an fd nothing opens.
Here test.sh plays the agent's code: it sends the fd itself, then writes reward 0."""
import pytest

import harbor
import sandbox_init
from test_agent_processes import KEEP, make_task, score

pytestmark = pytest.mark.skipif(sandbox_init.landlock_abi() < sandbox_init.LANDLOCK_ABI_NEEDED,
                                reason="keeping the agent's processes needs Landlock ABI 6")

# The survivor: takes one fd on /tmp/relay.sock and writes reward.json through it.
SURVIVOR = r'''
import array, os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("/tmp/relay.sock"); os.chmod("/tmp/relay.sock", 0o777); s.listen(1)
c, _ = s.accept()
msg, anc, _, _ = c.recvmsg(16, socket.CMSG_SPACE(4))
fd = array.array("i", anc[0][2][:4])[0]
try:
    w = os.open("reward.json", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(w, b'{"reward": 1}')
    c.sendall(b"wrote")
except OSError as e:
    c.sendall(b"refused")
'''
SEND = r'''python3 - <<'EOF'
import array, os, socket
fd = os.open("/logs/verifier", os.O_PATH | os.O_DIRECTORY)
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect("/tmp/relay.sock")
c.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]).tobytes())])
print(c.recv(16))
EOF
echo 0 > /logs/verifier/reward.txt
'''
START = (f"cat > /tmp/survivor.py <<'EOF'\n{SURVIVOR}\nEOF\n"
         "setsid nohup python3 /tmp/survivor.py >/dev/null 2>&1 < /dev/null &\n"
         "for i in $(seq 50); do [ -S /tmp/relay.sock ] && break; sleep 0.1; done")


def test_a_survivor_handed_an_fd_of_the_verifier_s_logs_writes_nothing_through_it(tmp_path):
    assert score(make_task(tmp_path, SEND), attack=START, limits=KEEP) == 0.0


def test_the_agent_s_own_files_stay_open_to_it_beneath_its_root(tmp_path):
    # the domain refuses only what lies outside the agent's root: its own files, /tmp, /proc and /dev work
    task = make_task(tmp_path, "echo 1 > /logs/verifier/reward.txt\n")
    with harbor.start_task(task, limits=KEEP) as env:
        r = env.run("mkdir -p /app/d && echo hi > /app/d/f && cat /app/d/f && ls /proc/self/fd >/dev/null "
                    "&& echo x > /dev/null && mv /app/d/f /tmp/g && cat /tmp/g && ln -s /tmp/g /app/l "
                    "&& cat /app/l")
        assert r.exit_code == 0 and r.output == "hi\nhi\nhi\n"
