"""Build /app/repo: main with release tags vX.Y.Z (some minor versions >= 10) and unreleased work after the last."""
import os, random, subprocess


def git(repo, *args, ts=0):
    env = dict(os.environ, GIT_AUTHOR_NAME="Dana Dev", GIT_AUTHOR_EMAIL="dana@example.com",
               GIT_COMMITTER_NAME="Dana Dev", GIT_COMMITTER_EMAIL="dana@example.com",
               GIT_AUTHOR_DATE=f"@{ts} +0000", GIT_COMMITTER_DATE=f"@{ts} +0000",
               GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(["git", "-C", repo, *args], env=env, check=True, capture_output=True, text=True).stdout


def versions(seed):
    """Increasing release versions; the highest has minor >= 10 so a plain text sort picks the wrong one."""
    rng = random.Random(seed)
    major, minor = rng.randint(1, 4), rng.randint(6, 8)
    out = []
    while minor < 10 or len(out) < 5:
        out.append((major, minor, rng.choice([0, 0, 1, 2])))
        minor += rng.randint(1, 2)
    return out


def build(repo, seed):
    """Create the repo; return (main head hash, {tag: commit hash}, highest version tuple)."""
    rng = random.Random(seed + 1000)
    os.makedirs(repo, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    ts, tags = 1700000000, {}

    def commit(msg, path, content):
        nonlocal ts
        os.makedirs(os.path.join(repo, os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(repo, path), "w") as f:
            f.write(content)
        git(repo, "add", "-A")
        ts += 7200
        git(repo, "commit", "-q", "-m", msg, ts=ts)

    commit("Initial commit", "README.md", "# widget\n")
    vs = versions(seed)
    for k, v in enumerate(vs):
        for j in range(rng.randint(1, 3)):
            commit(f"Work item {k}.{j}", f"src/mod{rng.randint(0, 4)}.py", f"VALUE = {rng.randint(0, 10**6)}\n")
        commit(f"Release {'.'.join(map(str, v))}", "VERSION", "%d.%d.%d\n" % v)
        name = "v%d.%d.%d" % v
        git(repo, "tag", name)
        tags[name] = git(repo, "rev-parse", "HEAD").strip()
    for j in range(rng.randint(1, 3)):
        commit(f"Unreleased work {j}", f"src/mod{rng.randint(0, 4)}.py", f"VALUE = {rng.randint(0, 10**6)}\n")
    return git(repo, "rev-parse", "main").strip(), tags, vs[-1]


if __name__ == "__main__":
    build("/app/repo", int(os.environ.get("TASK_SEED", "0")))
