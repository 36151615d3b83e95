"""Build /app/repo: a git history in which one commit added a leaked password that a later commit removed."""
import os, random, subprocess

WORDS = ["alpha", "bravo", "cargo", "delta", "ember", "falcon", "garnet", "harbor", "iris", "jade", "koala", "lumen"]


def git(repo, *args, ts=0):
    env = dict(os.environ, GIT_AUTHOR_NAME="Dana Dev", GIT_AUTHOR_EMAIL="dana@example.com",
               GIT_COMMITTER_NAME="Dana Dev", GIT_COMMITTER_EMAIL="dana@example.com",
               GIT_AUTHOR_DATE=f"@{ts} +0000", GIT_COMMITTER_DATE=f"@{ts} +0000",
               GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(["git", "-C", repo, *args], env=env, check=True, capture_output=True, text=True).stdout


def plan(seed):
    """Return (commits, leak_index): commits is a list of (message, {path: content}) snapshots of changed files."""
    rng = random.Random(seed)
    n = rng.randint(14, 22)
    leak = rng.randint(3, n - 5)
    removal = rng.randint(leak + 2, n - 2)
    password = "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(14))
    settings = {"HOST": '"0.0.0.0"', "PORT": str(rng.randint(3000, 9000)), "WORKERS": str(rng.randint(2, 16))}
    commits = []
    for i in range(n):
        changed = {}
        if i == 0:
            changed["README.md"] = f"# {rng.choice(WORDS)}-service\n\nInternal service.\n"
            msg = "Initial commit"
        elif i == leak:
            settings["DEBUG_PASSWORD"] = f'"{password}"'
            msg = "Update settings"
        elif i == removal:
            del settings["DEBUG_PASSWORD"]
            msg = "Clean up settings"
        elif rng.random() < 0.5:
            key = rng.choice(["PORT", "WORKERS", "TIMEOUT", "LOG_LEVEL", "CACHE_SIZE"])
            settings[key] = str(rng.randint(1, 500)) if key != "LOG_LEVEL" else f'"{rng.choice(["info", "debug", "warn"])}"'
            msg = rng.choice(["Update settings", "Tune settings", f"Change {key.lower()}"])
        else:
            name = rng.choice(WORDS)
            changed[f"app/{name}.py"] = f"def {name}(x):\n    return x * {rng.randint(2, 99)}\n"
            msg = rng.choice([f"Add {name} helper", f"Refactor {name}", f"Fix {name} edge case"])
        if i == 0 or msg.endswith("settings") or msg.startswith("Change ") or i in (leak, removal):
            changed["config/settings.py"] = "".join(f"{k} = {v}\n" for k, v in settings.items())
        commits.append((msg, changed))
    return commits, leak


def build(repo, seed):
    commits, leak = plan(seed)
    os.makedirs(repo, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    for i, (msg, changed) in enumerate(commits):
        for path, content in changed.items():
            os.makedirs(os.path.join(repo, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(repo, path), "w") as f:
                f.write(content)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "--allow-empty", "-m", msg, ts=1700000000 + i * 5400)
    return git(repo, "rev-list", "--reverse", "main").split()[leak]


if __name__ == "__main__":
    build("/app/repo", int(os.environ.get("TASK_SEED", "0")))
