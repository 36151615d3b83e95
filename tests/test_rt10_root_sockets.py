"""A service the agent left running answers the tests on its unix socket wherever it is bound, the sealed
root included (CONTAINMENT.md: the one live thing left), but never where a system library or tool
connects on its own (sandbox_init.IMPLICIT_SOCKETS). rt10a's note on p22: a socket bound on the root before
the seal (the workdir's) was refused to the verifier, whose root is an overlay of the sealed one (a new
inode at the same path, which connect() does not match to the bound socket). On the code before (8279a55)
the workdir socket's test failed (ECONNREFUSED) and the /run one passed."""
import pytest

from test_agent_processes import make_task, score

SERVER = ("import os, socket, sys\n"
          "os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)\n"
          "s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen()\n"
          "while True:\n    c, _ = s.accept(); c.sendall(b'42'); c.close()\n")


def serve(path: str) -> str:
    return (f"cat > /tmp/srv.py <<'EOF'\n{SERVER}EOF\nnohup python3 /tmp/srv.py {path} >/dev/null 2>&1 &\n"
            f"until [ -S {path} ]; do sleep 0.05; done; ")


def ask(path: str) -> str:
    return (f"python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect(\"{path}\"); "
            f"assert s.recv(2) == b\"42\"' && echo 1 > /logs/verifier/reward.txt "
            "|| echo 0 > /logs/verifier/reward.txt\n")


@pytest.mark.parametrize("path", ["/app/svc.sock", "/run/app/svc.sock", "/srv/deep/er/svc.sock"],
                         ids=["workdir", "run", "root"])
def test_a_survivors_service_socket_connects_for_the_tests(tmp_path, path):
    task = make_task(tmp_path, ask(path))
    assert score(task) == 0.0                              # nothing serves: refused
    assert score(task, serve(path)) == 1.0


def test_a_survivors_socket_on_the_root_where_an_implicit_path_leads_stays_unreached(tmp_path):
    # p22's shape without the padding: /run/nscd a link into the workdir, a server's socket bound there
    # before the seal, on the root; test.sh connects where glibc's nscd client does. Control: the same
    # server and link at a name no IMPLICIT_SOCKETS rule covers (/run/svc) is reached
    for name, want in (("nscd", 0.0), ("svc", 1.0)):
        task = make_task(tmp_path / name, ask(f"/run/{name}/socket"))
        assert score(task, f"mkdir -p /app/n; ln -s /app/n /run/{name}; " + serve("/app/n/socket")) == want


@pytest.mark.parametrize("target, move", [("/data", ""), ("/srv/data", "mv /srv /srv2; ")],
                         ids=["volume", "volume moved with its parent"])
def test_a_socket_in_a_volume_where_an_implicit_path_leads_stays_unreached_past_the_walks_budget(
        tmp_path, target, move):
    # a volume is bound into the verifier's view as it is, so a socket there is live: where an implicit path
    # leads into it (/run/nscd -> /data/n), every socket beneath is covered, and past the walk's budget
    # (rt10a's note on p22: 4,096 entries, then fail-open) the whole place is. 6,000 files made before the
    # socket: the walk ran out before it, and this scored 1.0 before (b534233); /run/svc, no implicit
    # path, is the control. The volume is found by its root wherever it is (sandbox_init._volume_points)
    from harbor import load_task
    from test_compose import make_task as compose_task
    n = target.replace("/srv/", "/srv2/") if move else target
    pad = f"mkdir -p {target}/n; cd {target}/n && seq -f f%g 6000 | xargs touch && cd /app; {move}"
    for name, want in (("nscd", 0.0), ("svc", 1.0)):
        files = {"environment/docker-compose.yaml": f"services:\n  main:\n    volumes: [\"data:{target}\"]\n"
                                                    "volumes:\n  data:\n",
                 "task.toml": "[agent]\ntimeout_sec = 60\n[verifier]\ntimeout_sec = 30\n",
                 "tests/test.sh": ask(f"/run/{name}/socket"), "solution/solve.sh": None}
        task = load_task(compose_task(tmp_path / name, files))
        assert score(task, pad + f"ln -s {n}/n /run/{name}; " + serve(f"{n}/n/socket")) == want
