"""Build /app/repo: a history on main where one commit ('Switch price rounding to floor') broke pricing.py."""
import os, random, subprocess

BAD_MESSAGE = "Switch price rounding to floor"


def git(repo, *args, ts=0):
    env = dict(os.environ, GIT_AUTHOR_NAME="Dana Dev", GIT_AUTHOR_EMAIL="dana@example.com",
               GIT_COMMITTER_NAME="Dana Dev", GIT_COMMITTER_EMAIL="dana@example.com",
               GIT_AUTHOR_DATE=f"@{ts} +0000", GIT_COMMITTER_DATE=f"@{ts} +0000",
               GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(["git", "-C", repo, *args], env=env, check=True, capture_output=True, text=True).stdout


def pricing(tax, rounding, fee):
    return (f"import math\n\nTAX_RATE = {tax}\nSERVICE_FEE = {fee}\n\n\n"
            f"def total(amount):\n    value = amount * (1 + TAX_RATE) + SERVICE_FEE\n"
            f"    return {rounding}\n")


def plan(seed):
    """Return (commits, bad_index, final_files); commits are (message, {path: content}) of changed files."""
    rng = random.Random(seed)
    tax, fee = rng.choice([0.05, 0.07, 0.19, 0.2, 0.21]), rng.randint(1, 5)
    files = {"README.md": "# shop\n", "pricing.py": pricing(tax, "round(value, 2)", fee),
             "utils.py": "def clamp(x, lo, hi):\n    return max(lo, min(hi, x))\n"}
    commits = [("Initial commit", dict(files))]
    n_before, n_after = rng.randint(2, 5), rng.randint(2, 5)
    for _ in range(n_before):  # earlier commits may touch pricing.py
        tax = round(tax + 0.01, 2)
        files["pricing.py"] = pricing(tax, "round(value, 2)", fee)
        commits.append((f"Set tax rate to {tax}", {"pricing.py": files["pricing.py"]}))
    bad_index = len(commits)
    files["pricing.py"] = pricing(tax, "math.floor(value * 100) / 100", fee + 1).replace("import math\n", "import math  # floor\n")
    commits.append((BAD_MESSAGE, {"pricing.py": files["pricing.py"]}))
    for i in range(n_after):  # later commits only touch other files
        path = rng.choice(["README.md", "utils.py", f"docs/note{i}.md"])
        files[path] = files.get(path, "") + f"Line {rng.randint(100, 999)} added in step {i}.\n"
        commits.append((rng.choice(["Update docs", "Tweak utils", "Add notes"]), {path: files[path]}))
    final = dict(files)
    final["pricing.py"] = [c for c in commits[:bad_index] if "pricing.py" in c[1]][-1][1]["pricing.py"]
    return commits, bad_index, final


def build(repo, seed):
    """Create the repo and return the hash of main's head."""
    commits, _, _ = plan(seed)
    os.makedirs(repo, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    for i, (msg, changed) in enumerate(commits):
        for path, content in changed.items():
            os.makedirs(os.path.join(repo, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(repo, path), "w") as f:
                f.write(content)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "--allow-empty", "-m", msg, ts=1700000000 + i * 5400)
    return git(repo, "rev-parse", "main").strip()


if __name__ == "__main__":
    build("/app/repo", int(os.environ.get("TASK_SEED", "0")))
