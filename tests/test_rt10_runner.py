"""A test runner or framework that never started is a verifier error in every language's own words
(harbor.RUNNER_MISSING), not a silent 0 (rt10a p16: Perl's `Can't locate Test/More.pm in @INC` on the
Debian base, perl-base only). The agent's own module or file missing is still the check failing."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import harbor  # noqa: E402
from harbor import VerifierError, load_task, start_task, verify  # noqa: E402
from test_harbor_episodes import make_task  # noqa: E402

INC = " in @INC (you may need to install the {0} module) (@INC contains: /etc/perl) at {1} line 2."


@pytest.mark.parametrize("line, missing", [
    ("Can't locate Test/More.pm" + INC.format("Test::More", "/tests/t.t"), True),           # perl
    ("t.t .. Can't locate Test2/V0.pm" + INC.format("Test2::V0", "t.t"), True),             # under prove
    ("Result: NOTESTS", True),                                                               # prove, no .t
    ("Cannot detect source of '/tests/x.t'! at /usr/share/perl/5.36/TAP/Parser/IteratorFactory.pm line 256.",
     True),
    ("Could not open input file: /tests/check.php", True),                                   # php
    ('PHP Fatal error:  Uncaught Error: Class "PHPUnit\\Framework\\TestCase" not found in /tests/T.php:4',
     True),
    ("Error in library(testthat) : there is no package called \u2018testthat\u2019", True),  # R, UTF-8
    ("Error in loadNamespace(x) : there is no package called 'tinytest'", True),             # R, C locale
    ("lua: /tests/t.lua:1: module 'luaunit' not found:", True),
    ("Could not execute because the specified command or file was not found.", True),       # dotnet
    ("No .NET SDKs were found.", True),
    ("Ran 0 tests in 0.000s", True),                                                         # unittest
    ("No tests found, exiting with code 1", True),                                           # jest
    ('Error: No test files found: "/tests/*.spec.js"', True),                                # mocha
    ("/tests/test.sh: line 2: bats: command not found", True),
    ("error: Failed to spawn: `pytest`", True),                                    # uv run (rt14a p16)
    ("error: Failed to spawn: pytest", True),
    ("error: Failed to spawn: `/app/build/solution`", False),                      # the agent's build
    ("Can't locate Solution.pm" + INC.format("Solution", "/tests/t.t"), False),              # the agent's
    ("Can't locate Calc/Util.pm" + INC.format("Calc::Util", "/tests/t.t"), False),
    ("Could not open input file: /app/solution.php", False),
    ("Error in library(mysolution) : there is no package called \u2018mysolution\u2019", False),
    ("lua: /tests/t.lua:1: module 'solution' not found:", False),
    ("Ran 3 tests in 0.010s", False),
    ("not ok 1 - out exists", False),
    ("Result: FAIL", False),
])
def test_a_runner_that_never_started_is_known_in_its_own_words(line, missing):
    assert bool(harbor.runner_missing(line)) == missing


PERL_TEST_SH = "if perl /tests/t.t; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n"


def test_perls_test_framework_missing_is_a_verifier_error(tmp_path):
    # the host's perl has Test::More: a framework it lacks, as the Debian base lacks Test::More (rt10a p16)
    files = {"tests/t.t": "use strict;\nuse Test::NoSuchFramework tests => 1;\nok(1);\n",
             "tests/test.sh": PERL_TEST_SH}
    task = load_task(make_task(tmp_path, "p", files=files))
    with start_task(task) as sb, pytest.raises(VerifierError, match="Can't locate Test/NoSuchFramework.pm"):
        verify(sb, task)


def test_the_agents_perl_module_missing_is_still_a_0(tmp_path):
    files = {"tests/t.t": "use lib '/app';\nuse Solution;\n",
             "tests/test.sh": PERL_TEST_SH}
    task = load_task(make_task(tmp_path, "p", files=files))
    with start_task(task) as sb:
        assert verify(sb, task)[0] == 0.0
