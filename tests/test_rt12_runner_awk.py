"""awk (sed -f, make -f, jq -f, tclsh) that cannot open the task's own /tests program never ran it (harbor.UNOPENED; rt12a p06).

`awk -f /tests/check.awk` on a task that lacks it printed mawk's `awk: cannot open /tests/check.awk (No such
file or directory)` (gawk: `awk: fatal: can't open source file ...`), read as the agent's silent 0; the same
words about the agent's own file stay the check failing."""
import pytest

import harbor


@pytest.mark.parametrize("line", [
    "awk: cannot open /tests/check.awk (No such file or directory)",
    "/usr/bin/mawk: cannot open /tests/check.awk (No such file or directory)",
    "awk: fatal: can't open source file `/tests/check.awk' for reading: No such file or directory",
    "sed: couldn't open file /tests/fix.sed: No such file or directory",         # rt12a p35
    "make: /tests/Makefile: No such file or directory",
    "jq: Could not open /tests/check.jq: No such file or directory",
    'couldn\'t read file "/tests/check.tcl": no such file or directory'])
def test_awk_missing_the_tasks_program_is_a_runner_that_never_started(line):
    assert harbor.runner_missing(line)


def test_a_runner_missing_the_agents_file_is_the_check_failing():
    assert not harbor.runner_missing("awk: cannot open /app/data.txt (No such file or directory)")
    assert not harbor.runner_missing("sed: couldn't open file /app/fix.sed: No such file or directory")
    assert not harbor.runner_missing("make: /app/Makefile: No such file or directory")
