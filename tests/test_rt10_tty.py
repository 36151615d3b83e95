"""rt10b p01-p03, p18, p21: nothing a task or agent runs holds the trainer's controlling terminal (else
TIOCSTI types commands into the operator's shell, ^C stops the trainer, keystrokes are read). The trainer
here is a child given a pty as its controlling terminal, as an operator's shell gives one."""
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# tty_nr (field 7 of /proc/self/stat, after the command name's parenthesis) and whether /dev/tty opens
PROBE = "awk '{print \"tty_nr=\" $7}' /proc/self/stat; (exec 3</dev/tty) 2>/dev/null && echo TTY-OPENED; true"


def as_trainer_on_a_terminal(body: str) -> str:
    """Run body in a fresh python whose controlling terminal is a new pty; its stdout."""
    script = textwrap.dedent(f"""
        import fcntl, os, sys, termios
        sys.path.insert(0, {str(ROOT)!r})
        import sandbox
        sandbox.ALLOW_NO_CGROUP = True
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)           # the trainer's controlling terminal
        assert os.open("/dev/tty", os.O_RDWR) >= 0
        PROBE = {PROBE!r}
    """) + textwrap.dedent(body)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                       start_new_session=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_agent_commands_have_no_controlling_terminal():
    out = as_trainer_on_a_terminal("""
        with sandbox.Sandbox(limits=sandbox.Limits(keep_agent_processes=False)) as sb:
            print(sb.run(PROBE).output)
            print(sb.run_fresh(PROBE, timeout=30).output)
    """)
    assert out.count("tty_nr=0") == 2 and "TTY-OPENED" not in out, out


def test_run_mapped_has_no_controlling_terminal():
    out = as_trainer_on_a_terminal("""
        print(sandbox.run_mapped(["sh", "-c", PROBE]).stdout)
    """)
    assert "tty_nr=0" in out and "TTY-OPENED" not in out, out
