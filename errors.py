"""Errors a user can fix (a flag, a file, a task, a model), shown as one line instead of a traceback.

Every error the project raises about its inputs derives from EchoError and names the thing at fault:
the flag and its value, the file and line, or the task. `guard` runs a command's main(): an EchoError
becomes `PROG: error: MESSAGE` on stderr and exit code 2, as argparse does for a bad flag; any other
exception is a bug and keeps its traceback. `--debug` or ECHO_DEBUG=1 shows the traceback of both.
"""
import json
import os
import re
import sys


class EchoError(Exception):
    """Something the user gave is wrong; the message is one line naming it."""


class ConfigError(EchoError, ValueError):
    """A value or file that is there but wrong: a flag out of range, a bad config, an unreadable file."""


class MissingError(EchoError, FileNotFoundError):
    """A file, directory or model that is not there."""


# What a line must not carry through to a terminal or a log: C0 and C1 controls but the whitespace that
# split() folds (ESC starts a sequence that erases or rewrites lines; a lone CR overwrites the line), DEL,
# and Unicode's line separators and bidirectional overrides (text shown in another order than it reads).
# and lone surrogates: a file name that is not UTF-8 decodes to them (os.fsdecode), and a strict UTF-8
# stdout refuses to print them (rt16b p02: a tampered reason naming one ended eval.py's report)
CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def one_line(text: str) -> str:
    """Text a task or a program produced (its output, a message quoting it), fit for a one-line error:
    whitespace runs are one space and every other control character is shown escaped (`\\x1b`)."""
    return CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}",
                       " ".join(text.split()))


def say(text: str, file=None) -> None:
    """Print one line of the trainer's that may quote what a sandbox produced (a file name a survivor holds,
    a process's name, a task's output), on stderr by default: the one place such a line is printed, so that
    it always passes one_line (a file named `x\nstep 999 mean reward 1.000` forged a line: rt9 p14)."""
    print(one_line(text), file=file or sys.stderr, flush=True)


def read_jsonl(path) -> list:
    """The records of a JSONL file; a bad line is an error naming the file and the line."""
    records = []
    try:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise ConfigError(f"{path}:{number}: not a JSON record ({e.msg}, column {e.colno})")
    except FileNotFoundError:
        raise MissingError(f"{path}: no such file") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read it ({e.__class__.__name__})") from None
    return records


def guard(prog: str, main, argv=None) -> int:
    """Run main(argv) as a command: its return value is the exit code (None: 0)."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("ECHO_DEBUG", "") not in ("", "0")
    try:
        return main(argv) or 0
    except EchoError as e:
        if debug:
            raise
        print(f"{prog}: error: {one_line(str(e))}", file=sys.stderr)
        return 2
