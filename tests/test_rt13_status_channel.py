"""The agent's shell reports on fd 99 with a nonce that code in the shell can read (a `printf` function sees
it): a line there can end or shape only the agent's own command (rt13b p18: `s <nonce> 1` made run() raise
ValueError, the rollout `crashed` and masked), never stand for pid 1's events (p19: a survivor's `c <nonce>
0` taken as the verifier's start), and a flood on it costs the trainer no more than its budget (p21)."""
import resource
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import sandbox  # noqa: E402
from sandbox import Limits, Sandbox  # noqa: E402

# a function that shadows the builtin: it sees each command's nonce and writes lines of its own with it
HOOK = r"""printf() { if [ "${1:0:2}" = "b " ]; then n=${1#b }; n=${n%% *}; echo "$n" > /tmp/nonce
  for k in s x c e r u S f; do builtin printf '%s %s 1\n' "$k" "$n"; builtin printf '%s %s\n' "$k" "$n"
  done; builtin printf 'b %s 12345678901234567890\nn %s x\n' "$n" "$n"; fi; builtin printf "$@"; }"""
# ... and one that hands fd 99 to a survivor writing the last nonce's lines as fast as it can
SURVIVOR = r"""printf() { if [ "${1:0:2}" = "b " ]; then n=${1#b }; n=${n%% *}; echo "$n" > /tmp/nonce
  if [ ! -e /tmp/spawned ]; then touch /tmp/spawned
    setsid bash -c 'while :; do n=$(cat /tmp/nonce); for i in 1 2 3 4 5 6 7 8; do
      echo "c $n 0"; echo "e $n 0 0"; echo "x 0"; echo "n $n 7"; done; done' >&99 </dev/null 2>/dev/null &
  fi; fi; builtin printf "$@"; }"""
FLOOD = r"""printf() { if [ "${1:0:2}" = "b " ] && [ ! -e /tmp/spawned ]; then touch /tmp/spawned
  setsid python3 -c 'import os
while True: os.write(3, b"\n" * 65536)' 3>&99 </dev/null >/dev/null 2>/dev/null &
  fi; builtin printf "$@"; }"""


@pytest.fixture
def box():
    with Sandbox(limits=Limits(cpus=0.5)) as s:
        yield s


def test_forged_status_lines_never_raise_out_of_run(box):
    assert box.run(HOOK).exit_code == 0
    for _ in range(3):
        r = box.run("echo still here; (exit 3)")
        assert (r.output, r.exit_code, r.timed_out) == ("still here\n", 3, False)


def test_a_survivor_on_the_shell_pipe_forges_no_verifier_event(box):
    assert box.run(SURVIVOR).exit_code == 0
    box.run("true")                            # the hook starts the survivor here
    time.sleep(0.3)
    r = box.run_fresh("sleep 0.5; echo verifier; exit 5", 10, private_logs=True)
    assert (r.output, r.exit_code, r.timed_out) == ("verifier\n", 5, False)


def test_a_flood_on_the_shell_pipe_costs_the_trainer_little(box):
    box.run(FLOOD)
    box.run("true")
    box.run("sleep 0.5")
    use = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])     # noqa: E731
    c0 = use()
    r = box.run_fresh("sleep 3; echo done", 10, private_logs=True)
    assert (r.output, r.exit_code) == ("done\n", 0)
    assert use() - c0 < 0.5


def test_output_is_read_within_its_budget_per_second(box, monkeypatch):
    # a writer that outruns the trainer cannot hold run() past its clock (rt13b p02): reads per second are
    # bounded, so the deadline is looked at between them
    monkeypatch.setattr(sandbox, "OUTPUT_BYTES_PER_S", 1 << 20)
    box._budgets.clear()
    t0 = time.monotonic()
    r = box.run("head -c 20000000 /dev/zero", timeout=3)
    assert r.timed_out and time.monotonic() - t0 < 6


@pytest.mark.parametrize("line", [b"s abc 1", b"x abc 0", b"c abc 0", b"n abc x", b"n abc", b"b abc 1 2",
                                  b"n abd 0", b"n abc \xb2", b"n abc 1234567890123", b""])
def test_only_b_and_n_of_the_current_command_are_shell_events(line):
    assert sandbox._shell_event(line, "abc") is None


def test_the_shells_own_lines_are_read():
    assert sandbox._shell_event(b"n abc -1", "abc") == ("n", "abc", "-1")
    assert sandbox._shell_event(b"b abc 42", "abc") == ("b", "abc", "42")
    assert sandbox._shell_event(b"b abc 42", "") is None       # no run() waits: nothing is read


def test_a_survivor_on_the_shell_pipe_forges_no_seal_or_restart(box):
    # the other waits on pid 1's events: seal's answer (S) and the shell's restart (x)
    assert box.run(SURVIVOR.replace('echo "c $n 0"', 'echo "S $n 0"')).exit_code == 0
    box.run("true")
    time.sleep(0.3)
    box.seal()                                 # sealed or refused, in pid 1's own words: never a ValueError
    box.restart_shell()
    assert box.run("echo fresh").output == "fresh\n"
