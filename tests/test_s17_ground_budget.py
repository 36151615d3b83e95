"""rt16b p04: ~95,000 entries 250 levels deep cost the trainer ~100 s of CPU in one verify (tamper.tampered
judged every entry with no budget, at a cost that grew with its depth); p12: on FROM host a task's `ENV
PATH` made the image scan read a host venv no sandbox sees. On hand-made trees and the host's own root."""
import os

import pytest

import tamper


def chain(levels: int, leaf: str = "/app") -> list[str]:
    """/app/d, /app/d/d, ...: the directories of a chain `levels` deep."""
    out = []
    for _ in range(levels):
        leaf += "/d"
        out.append(leaf)
    return out


def test_below_a_name_the_image_lacks_nothing_more_is_looked_up(tmp_path, monkeypatch):
    # a deep tree of the agent's (none of it the image's) costs one lookup in all, not one a level
    image = tamper.Image([str(tmp_path)])
    looked = []
    monkeypatch.setattr(image, "_lookup", lambda p: looked.append(p) or tamper.Image._lookup(image, p))
    assert all(image.kind(d) is None for d in reversed(chain(200)))
    assert looked == ["/app"]


def test_below_a_name_the_image_has_the_lookup_is_the_same(tmp_path):
    (tmp_path / "app/d/d").mkdir(parents=True)
    (tmp_path / "app/d/d/f").write_text("x")
    os.symlink("/etc", tmp_path / "app/l")
    image = tamper.Image([str(tmp_path)])
    assert [image.kind(p) for p in ("/app/d/d/f", "/app/d/d", "/app/d/x", "/app/l", "/app/l/passwd")] == [
        "file", "dir", None, "link", None]                     # never through a link


def test_the_walk_to_a_shipped_tree_stops_at_a_directory_it_knows():
    # _shipped_tree walked every entry's ancestors up to the workdir: 95,000 entries x 250 levels
    memo, asked = {}, []
    kind = lambda p: asked.append(p) or ("dir" if p.endswith("/node_modules") else None)   # noqa: E731
    deep = chain(200)[-1]
    seen = _Counting(memo)
    for n in range(100):
        assert tamper._shipped_tree(f"{deep}/{n}", "/app", kind, seen) is None
    assert seen.lookups < 1_000                                # 100 files: one known parent each
    assert tamper._shipped_tree("/app/node_modules/x/y", "/app", kind, {}) == "/app/node_modules"


class _Counting(dict):
    """A memo that counts how often it is asked."""
    lookups = 0

    def __contains__(self, key):
        self.lookups += 1
        return super().__contains__(key)

    def get(self, key, default=None):
        self.lookups += 1
        return super().get(key, default)


def test_a_layer_whose_judging_outruns_its_budget_is_refused_whole(tmp_path, monkeypatch):
    image = tamper.Image([str(tmp_path)])
    changes = [tamper.Change("/app", "dir")] + [tamper.Change(d, "dir") for d in chain(10)]
    assert tamper.tampered(changes, image, "/app", ["/usr/bin"]) == []
    monkeypatch.setattr(tamper, "JUDGE_SECONDS", -1.0)        # spent before it starts
    bad = tamper.tampered(changes, image, "/app", ["/usr/bin"])
    assert len(bad) == 1 and bad[0].startswith("/ (writable layer too large to check: 0 of 11 entries judged")


def test_the_check_after_the_tests_has_what_the_one_before_left(tmp_path):
    # one budget a verify: a layer judged in just under it before the tests is not judged again in full
    image = tamper.Image([str(tmp_path)])
    changes = [tamper.Change("/app", "dir")]
    assert tamper.tampered(changes, image, "/app", ["/usr/bin"], seconds=tamper.JUDGE_SECONDS - 1) == []
    assert tamper.tampered(changes, image, "/app", ["/usr/bin"], seconds=-1.0)[0].startswith(
        "/ (writable layer too large to check")


def test_from_host_the_image_is_what_a_sandbox_sees(tmp_path):
    # the host's root beyond its system directories (/work, /var, /opt, this test's /tmp) is no image's
    secret = tmp_path / "grade.py"
    secret.write_text("x = 1\n")
    host = tamper.Image(["/"])
    assert host.kind(str(secret)) is None and host.read(str(secret)) is None
    assert host.names(str(tmp_path)) == set() and host.names("/tmp") == set()
    assert host.kind("/tmp") == "dir" and host.kind("/etc/passwd") == "file"     # what it mounts; shows
    assert host.names("/") <= {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc",
                               "proc", "dev", "sys", "run", "tmp", "root", "var"}
    assert tamper.Image([str(tmp_path)]).kind("/grade.py") == "file"           # a built image: all of it


def test_from_host_a_hidden_directory_is_empty(tmp_path):
    hidden = tamper.Image(["/"], hidden=["/usr/share"])
    assert hidden.kind("/usr/share/doc") is None and hidden.names("/usr/share") == set()
    assert "share" not in hidden.names("/usr") and hidden.kind("/usr/bin") == "dir"


def test_from_host_env_path_names_no_host_tree_a_sandbox_lacks(tmp_path):
    # p12: `ENV PATH=/work/.../venv/bin:$PATH` made image_hooks read that venv's site-packages as root
    site = tmp_path / "venv/lib/python3.11/site-packages"
    site.mkdir(parents=True)
    (tmp_path / "venv/bin").mkdir()
    os.symlink("/usr/bin/python3", tmp_path / "venv/bin/python")
    (site / "hook.py").write_text("try:\n    import zz_s17_hidden\nexcept ImportError:\n    pass\n")
    path = [str(tmp_path / "venv/bin"), "/usr/bin", "/bin"]
    assert "zz_s17_hidden" not in tamper.guarded_names(tamper.Image(["/"]), path, "/app")[0]
    assert str(site) not in tamper.python_dirs(tamper.Final(tamper.Image(["/"])), path, "/app")


@pytest.mark.parametrize("root", ["/", "/."])
def test_every_name_of_the_hosts_root_is_filtered(root):
    assert tamper.Image([root]).kind("/work") is None and tamper.Image([root]).host
