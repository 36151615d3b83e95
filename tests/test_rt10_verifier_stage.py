"""The verifier's tests exist only at /tests while test.sh runs (rt10a p28). In the default lifecycle they
reached the verifier's own mount namespace through a stage that stayed mounted at /run/xfer/<hex>/ for the
whole of test.sh, with the files' own modes: a built-in check runs the agent's code as nobody after making
/tests root's 0700, and that code read gen.py from the stage instead. Now pid 1's child copies the stage
into /tests before the verifier's shell starts, and the stage is never mounted where test.sh can see it.
On the code before (8279a55) the default lifecycle's search found the token under /run/xfer/<hex>/, and
a link into /run/xfer was not judged; the owner-and-modes test passed before and is kept as a guard (the
copy is now pid 1's child's, no longer `cp -a` run by the verifier's user)."""
import pytest

from test_agent_processes import KEEP, KILL, make_task, score

TOKEN = "f6-staged-tests-token-5d1c"
# test.sh: 1 only if no file holding the token is readable anywhere but /tests (the places a stage or a copy
# could be: /run, /tmp, /var/tmp, /logs, the workdir, root's home)
FIND = (f"found=$(grep -rlsF {TOKEN} /run /tmp /var/tmp /logs /app /root 2>/dev/null | head -3)\n"
        "echo \"found: $found\"\n"
        "[ -z \"$found\" ] && [ -f /tests/secret.txt ] && echo 1 > /logs/verifier/reward.txt "
        "|| echo 0 > /logs/verifier/reward.txt\n")


@pytest.mark.parametrize("limits", [KEEP, KILL], ids=["default lifecycle", "kill"])
def test_no_copy_of_the_tests_is_readable_outside_tests_while_test_sh_runs(tmp_path, limits):
    task = make_task(tmp_path, FIND, files={"tests/secret.txt": TOKEN + "\n"})
    assert score(task, limits=limits) == 1.0


def test_tests_has_the_same_owner_and_modes_in_both_lifecycles(tmp_path):
    # what a built-in check's agent() starts from (it chowns /tests to root and makes it 0700 itself)
    test_sh = ("[ \"$(stat -c '%a %u %g' /tests /tests/d /tests/d/f.txt)\" = "
               "\"$(printf '755 0 0\\n750 0 0\\n640 0 0')\" ] && echo 1 > /logs/verifier/reward.txt "
               "|| { stat -c '%n %a %u %g' /tests /tests/d /tests/d/f.txt; "
               "echo 0 > /logs/verifier/reward.txt; }\n")
    task = make_task(tmp_path, test_sh, files={"tests/d/f.txt": "x\n"})
    (task.path / "tests").chmod(0o755)
    (task.path / "tests" / "d").chmod(0o750)
    (task.path / "tests" / "d" / "f.txt").chmod(0o640)
    assert score(task, limits=KILL) == 1.0
    assert score(task, limits=KEEP) == 1.0


def test_a_link_into_run_xfer_is_tampered():
    # where files on their way in are staged: a deliverable must never lead there (rt10a's note)
    import tamper
    from test_reward_forgery import PATH, IMAGE
    out = tamper.Change("/app/output.txt", "link", target="/run/xfer/0a1b2c3d/expected_output.txt")
    assert [b.split(" (")[0] for b in tamper.tampered([out], IMAGE, "/app", PATH)] == ["/app/output.txt"]


def test_the_verifiers_bytecode_of_the_tests_is_not_another_users_to_read(tmp_path):
    # test.sh's Python (no -I) caches the tests' bytecode under PYTHONPYCACHEPREFIX: a compiled copy of
    # them. A check that hides /tests (0700) before it runs the agent's program as nobody must not leave
    # that copy readable. Before: the prefix was a 755 tmpfs, its files 644
    test_sh = ("cd /tests && python3 -c 'import secretmod'; chmod 700 /tests\n"
               "ls -R /logs/.verifier-pycache | grep -q secretmod || { echo 'no bytecode cached'; exit 0; }\n"
               "if setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "
               "'cat $(find /logs/.verifier-pycache -name \"secretmod*\") 2>/dev/null' | grep -q {tok}; "
               "then echo 0; else echo 1; fi "
               "> /logs/verifier/reward.txt\n").replace("{tok}", TOKEN)
    task = make_task(tmp_path, test_sh, files={"tests/secretmod.py": f"SECRET = {TOKEN!r}\n"})
    assert score(task, limits=KEEP) == 1.0
    assert score(task, limits=KILL) == 1.0
