"""The trainer reads a task's tests/ as host root: one reader (harbor._task_file) takes regular files only,
never through a link and never blocking (rt17b p26: a tests/ link to a host FIFO held verify's control,
as root, 25 s past a 5 s clock; one to /proc/kmsg drains the host's kernel log)."""
import os
import threading

import harbor
from test_harbor_episodes import make_task


def within(seconds, fn, *args):
    out = []
    t = threading.Thread(target=lambda: out.append(fn(*args)), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"{fn.__name__} blocked"
    return out[0]


def task_with_links(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "secret").write_text("qqqword\n")
    task = harbor.load_task(make_task(tmp_path / "t", files={"tests/test.sh": "echo 0 > /logs/verifier/reward.txt\n"}))
    os.symlink(tmp_path / "fifo", task.path / "tests" / "a_fifo")
    os.symlink(tmp_path / "secret", task.path / "tests" / "b_secret")
    os.mkfifo(task.path / "tests" / "c_fifo")
    return task


def test_the_tests_words_are_read_from_regular_files_only(tmp_path):
    task = task_with_links(tmp_path)
    assert within(5, harbor._tests_mention, task, "qqqword") is False     # the link's file is not read
    (task.path / "tests" / "d.sh").write_text("qqqword /x\n")
    assert within(5, harbor._tests_mention, task, "qqqword") is True


def test_what_the_tests_name_and_fetch_is_read_without_blocking(tmp_path):
    task = task_with_links(tmp_path)
    within(5, harbor.tests_named, task.path / "tests")
    within(5, harbor.fetched_paths, task.path / "tests")
    within(5, harbor.tests_requirements, task.path / "tests", harbor.tamper.Installs(files=frozenset({"a_fifo", "c_fifo"})))


def test_the_one_reader_refuses_links_fifos_and_devices(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "f").write_text("abc")
    os.symlink(tmp_path / "f", tmp_path / "link")
    assert harbor._task_file(str(tmp_path / "f"), 2) == b"ab"
    assert [within(5, harbor._task_file, str(tmp_path / n), 10) for n in ("fifo", "link")] == [None, None]
    assert harbor._task_file("/dev/zero", 10) is None
