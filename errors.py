"""Errors a user can fix (a flag, a file, a task, a model), shown as one line instead of a traceback.

Every error the project raises about its inputs derives from EchoError and names the thing at fault:
the flag and its value, the file and line, or the task. `guard` runs a command's main(): an EchoError
becomes `PROG: error: MESSAGE` on stderr and exit code 2, as argparse does for a bad flag; any other
exception is a bug and keeps its traceback. `--debug` or ECHO_DEBUG=1 shows the traceback of both.
"""
import json
import os
import sys


class EchoError(Exception):
    """Something the user gave is wrong; the message is one line naming it."""


class ConfigError(EchoError, ValueError):
    """A value or file that is there but wrong: a flag out of range, a bad config, an unreadable file."""


class MissingError(EchoError, FileNotFoundError):
    """A file, directory or model that is not there."""


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
        print(f"{prog}: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
