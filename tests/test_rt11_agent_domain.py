"""The agent's own kernel objects work inside its Landlock domain (sandbox_init._landlock_domain): the rt11
fd-relay fix allowed file access only beneath the agent's root, and mq_open, which opens its file on the IPC
namespace's internal mqueue mount (beneath no path), failed with EACCES in every sandbox of the default
lifecycle. The domain now allows that namespace's mqueue too; the verifier's queues stay its own. Each side
also has its own /dev/mqueue, as Docker mounts it."""
import pytest

import harbor
import sandbox_init
from test_agent_processes import KEEP, make_task, score
from test_rt11_fd_relay import SEND, START

pytestmark = pytest.mark.skipif(sandbox_init.landlock_abi() < sandbox_init.LANDLOCK_ABI_NEEDED,
                                reason="keeping the agent's processes needs Landlock ABI 6")

# POSIX message queue /grade: {make} creates it and sends PASS; otherwise it is only opened and read
MQ = '''python3 - <<'EOF'
import ctypes, os, sys
rt = ctypes.CDLL("librt.so.1", use_errno=True)
q = rt.mq_open(b"/grade", {flags}, 0o666, None)
if q < 0:
    sys.exit(f"mq_open: {{os.strerror(ctypes.get_errno())}}")
if {make}:
    assert rt.mq_send(q, b"PASS", 4, 0) == 0
else:
    b = ctypes.create_string_buffer(8192)
    sys.exit(rt.mq_receive(q, b, 8192, None) != 4 or b.raw[:4] != b"PASS")
EOF
'''
MAKE = MQ.format(flags="os.O_CREAT | os.O_RDWR", make=True)
READ = MQ.format(flags="os.O_RDWR | os.O_NONBLOCK", make=False)


@pytest.mark.parametrize("user", ["root", "nobody"])
def test_the_agent_sends_and_receives_on_a_posix_message_queue(tmp_path, user):
    task = make_task(tmp_path, "echo 1 > /logs/verifier/reward.txt\n")
    with harbor.start_task(task, limits=KEEP) as env:
        r = env.run(MAKE + READ if user == "root" else f"su -s /bin/sh nobody <<'SH'\n{MAKE}{READ}SH\n")
        assert (r.exit_code, r.output) == (0, "")


def test_the_agents_queue_is_not_the_verifiers(tmp_path):
    # the agent leaves PASS in /grade; test.sh reads /grade in an IPC namespace of its own: no such queue
    task = make_task(tmp_path, READ + "echo $(($? == 0)) > /logs/verifier/reward.txt\n")
    assert score(task, attack=MAKE) == 0.0


# ---- /dev/mqueue, as Docker mounts it: each IPC namespace's queues as files -------------------------------

def test_the_agents_dev_mqueue_shows_its_queue(tmp_path):
    task = make_task(tmp_path, "echo 1 > /logs/verifier/reward.txt\n")
    with harbor.start_task(task, limits=KEEP) as env:
        assert env.run(MAKE + "head -c 9 /dev/mqueue/grade", timeout=30).output == "QSIZE:4  "


def test_the_verifiers_dev_mqueue_is_its_own(tmp_path):
    # the agent leaves /grade; test.sh makes /own: its /dev/mqueue shows /own alone
    own = MAKE.replace("/grade", "/own")
    task = make_task(tmp_path, own + '[ "$(ls /dev/mqueue)" = own ] && echo 1 > /logs/verifier/reward.txt\n')
    assert score(task, attack=MAKE) == 1.0


def test_a_survivor_handed_the_verifiers_dev_mqueue_makes_no_queue_through_it(tmp_path):
    # as rt11a p01 with /logs/verifier: the agent's code in a check sends an O_PATH fd of the verifier's
    # /dev/mqueue; the survivor's open(O_CREAT) through it would make a queue there. The rule allows the
    # agent's IPC namespace's mqueue, another superblock: refused.
    made = "[ -e /dev/mqueue/reward.json ]; echo $((! $?)) > /logs/verifier/reward.txt"
    send = SEND.replace('"/logs/verifier"', '"/dev/mqueue"')
    send = send.replace("echo 0 > /logs/verifier/reward.txt", made)
    assert score(make_task(tmp_path, send), attack=START) == 0.0
