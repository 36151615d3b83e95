"""Build /app/site: files, directories and relative symlinks, some of them broken (including chains)."""
import os, random

WORDS = ["index", "about", "logo", "style", "main", "notes", "photo", "report", "draft", "theme"]


def plan(seed):
    """Return (files {path: text}, links {path: target}, broken link paths); paths relative to /app/site."""
    rng = random.Random(seed)
    dirs = ["", "assets", "assets/img", "docs", "docs/old", "blog"]
    files = {}
    for _ in range(rng.randint(10, 18)):
        d = rng.choice(dirs)
        files[os.path.join(d, f"{rng.choice(WORDS)}{rng.randint(1, 99)}.{rng.choice(['html', 'css', 'png', 'md'])}")] = \
            f"content {rng.randint(0, 10**6)}\n"
    links, broken = {}, set()
    names = sorted(files)
    for i in range(rng.randint(10, 16)):
        d = rng.choice(dirs)
        path = os.path.join(d, f"link{i}" + rng.choice(["", ".html", ".png"]))
        if path in files or path in links:
            continue
        kind = rng.random()
        if kind < 0.45:  # valid link to a file
            target = os.path.relpath(rng.choice(names), d or ".")
        elif kind < 0.55:  # valid link to a directory
            target = os.path.relpath(rng.choice([x for x in dirs if x and x != d] or ["docs"]), d or ".")
        else:  # broken link
            target = os.path.relpath(os.path.join(rng.choice(dirs), f"missing{rng.randint(1, 99)}.html"), d or ".")
            broken.add(path)
        links[path] = target
    # chains: one broken through an intermediate link, one valid
    links["blog/chain-a"], links["blog/chain-b"] = "chain-b", "../docs/gone.md"
    links["docs/chain-c"], links["docs/chain-d"] = "chain-d", os.path.relpath(names[0], "docs")
    broken |= {"blog/chain-a", "blog/chain-b"}
    return files, links, sorted(broken)


def build(root, seed):
    files, links, _ = plan(seed)
    for path, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        with open(os.path.join(root, path), "w") as f:
            f.write(text)
    for path, target in links.items():
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        os.symlink(target, os.path.join(root, path))


if __name__ == "__main__":
    build("/app/site", int(os.environ.get("TASK_SEED", "0")))
