"""Build /app/releases/<X.Y.Z>/bin/*, a stale absolute /app/current link and stale /app/bin links."""
import os, random

TOOLS = ["appctl", "migrate", "worker", "backup", "report", "healthcheck", "import"]


def plan(seed):
    """Return ({version: [tools]}, newest version string)."""
    rng = random.Random(seed)
    versions = set()
    while len(versions) < rng.randint(4, 7) or not any(v[1] >= 10 for v in versions):
        versions.add((rng.randint(1, 2), rng.choice([rng.randint(0, 9), rng.randint(10, 12)]), rng.randint(0, 12)))
    releases = {".".join(map(str, v)): sorted(rng.sample(TOOLS, rng.randint(2, 5))) for v in versions}
    return releases, ".".join(map(str, max(versions)))


def build(root, seed):
    releases, newest = plan(seed)
    for version, tools in releases.items():
        os.makedirs(f"{root}/releases/{version}/bin")
        for t in tools:
            with open(f"{root}/releases/{version}/bin/{t}", "w") as f:
                f.write(f"#!/bin/sh\necho {t} {version}\n")
            os.chmod(f"{root}/releases/{version}/bin/{t}", 0o755)
    oldest = min(releases, key=lambda v: tuple(map(int, v.split("."))))
    os.symlink(f"{root}/releases/{oldest}", f"{root}/current")
    os.makedirs(f"{root}/bin")
    for t in releases[oldest]:
        os.symlink(f"{root}/releases/{oldest}/bin/{t}", f"{root}/bin/{t}")
    os.symlink("../current/bin/legacy-tool", f"{root}/bin/legacy-tool")


if __name__ == "__main__":
    build("/app", int(os.environ.get("TASK_SEED", "0")))
