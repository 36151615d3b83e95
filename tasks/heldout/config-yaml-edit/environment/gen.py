"""Write /app/deploy/services.yaml: a simple block-style YAML file (mappings of scalars only)."""
import os, random

SERVICES = ["api", "worker", "web", "scheduler", "mailer", "search"]


def plan(seed):
    """Return (yaml text, original nested dict, expected nested dict after the requested edits)."""
    rng = random.Random(seed)
    names = ["api", "worker"] + rng.sample(SERVICES[2:], rng.randint(1, 3))
    rng.shuffle(names)
    data = {"version": "3", "services": {}}
    for n in names:
        data["services"][n] = {
            "image": f"registry.local/{n}:{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}",
            "replicas": str(rng.randint(1, 4)),
            "env": {"LOG_LEVEL": rng.choice(["info", "debug"]), "REGION": rng.choice(["eu", "us"])},
        }
    lines = [f"# deployment for cluster c{rng.randint(1, 9)}", 'version: "3"', "services:"]
    for n, svc in data["services"].items():
        lines += [f"  {n}:", f"    image: {svc['image']}", f"    replicas: {svc['replicas']}", "    env:"]
        lines += [f"      {k}: {v}" for k, v in svc["env"].items()]
    import copy
    expected = copy.deepcopy(data)
    expected["services"]["api"]["replicas"] = "5"
    image = expected["services"]["worker"]["image"]
    expected["services"]["worker"]["image"] = image.rsplit(":", 1)[0] + ":2.4.1"
    for svc in expected["services"].values():
        svc["env"]["LOG_LEVEL"] = "warn"
    return "\n".join(lines) + "\n", data, expected


def parse(text):
    """Parse the block-mapping subset of YAML used here: `key: value` / `key:` lines, 2-space nesting."""
    root, stack = {}, [(-1, None)]
    stack[0] = (-1, root)
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        key, sep, val = raw.strip().partition(":")
        if not sep:
            raise ValueError(f"not a mapping line: {raw!r}")
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        val = val.split(" #")[0].strip()
        if val:
            if len(val) >= 2 and val[0] == val[-1] and val[0] in "'\"":
                val = val[1:-1]
            parent[key.strip()] = val
        else:
            parent[key.strip()] = child = {}
            stack.append((indent, child))
    return root


if __name__ == "__main__":
    text, _, _ = plan(int(os.environ.get("TASK_SEED", "0")))
    os.makedirs("/app/deploy", exist_ok=True)
    with open("/app/deploy/services.yaml", "w") as f:
        f.write(text)
