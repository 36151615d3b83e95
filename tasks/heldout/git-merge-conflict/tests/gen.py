"""Build /app/repo with main checked out in the middle of a conflicted `git merge feature`."""
import os, random, subprocess

KEYS = ["host", "port", "timeout", "retries", "log_level", "cache_size", "pool_size", "max_body",
        "keepalive", "workers", "backlog", "queue_depth", "flush_interval", "batch_size", "ttl", "region"]


def git(repo, *args, ts=0, check=True):
    env = dict(os.environ, GIT_AUTHOR_NAME="Dana Dev", GIT_AUTHOR_EMAIL="dana@example.com",
               GIT_COMMITTER_NAME="Dana Dev", GIT_COMMITTER_EMAIL="dana@example.com",
               GIT_AUTHOR_DATE=f"@{ts} +0000", GIT_COMMITTER_DATE=f"@{ts} +0000",
               GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(["git", "-C", repo, *args], env=env, check=check, capture_output=True, text=True).stdout


def render(values):
    return "[service]\n" + "".join(f"{k} = {v}\n" for k, v in values.items())


def plan(seed):
    """Return (base, ours, theirs, expected) settings.ini contents; changed lines are >= 2 lines apart."""
    rng = random.Random(seed)
    base = {k: str(rng.randint(1, 999)) for k in KEYS}
    slots = list(range(0, len(KEYS), 3))  # every third key may change, so hunks never touch
    rng.shuffle(slots)
    n_conf = rng.randint(1, 2)
    conflict, only_main, only_feat = slots[:n_conf], slots[n_conf:n_conf + 2], slots[n_conf + 2:n_conf + 4]
    ours, theirs, expected = dict(base), dict(base), dict(base)
    for i in conflict + only_main:
        ours[KEYS[i]] = str(int(base[KEYS[i]]) + rng.randint(1, 50))
    for i in conflict + only_feat:
        theirs[KEYS[i]] = str(int(base[KEYS[i]]) + rng.randint(51, 100))
    for i in only_main:
        expected[KEYS[i]] = ours[KEYS[i]]
    for i in conflict + only_feat:
        expected[KEYS[i]] = theirs[KEYS[i]]
    return render(base), render(ours), render(theirs), render(expected)


def build(repo, seed):
    """Create the repo mid-merge; return (main head, feature head)."""
    base, ours, theirs, _ = plan(seed)

    def write(path, content):
        with open(os.path.join(repo, path), "w") as f:
            f.write(content)

    os.makedirs(repo, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    write("settings.ini", base)
    write("README.md", "# service\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Initial settings", ts=1700000000)
    git(repo, "checkout", "-q", "-b", "feature")
    write("settings.ini", theirs)
    git(repo, "commit", "-q", "-am", "Tune settings for production", ts=1700003600)
    write("NOTES.md", "Production tuning notes.\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Add notes", ts=1700007200)
    git(repo, "checkout", "-q", "main")
    write("settings.ini", ours)
    git(repo, "commit", "-q", "-am", "Adjust settings", ts=1700010800)
    heads = git(repo, "rev-parse", "main").strip(), git(repo, "rev-parse", "feature").strip()
    git(repo, "merge", "feature", ts=1700014400, check=False)  # stops with a conflict in settings.ini
    return heads


if __name__ == "__main__":
    build("/app/repo", int(os.environ.get("TASK_SEED", "0")))
