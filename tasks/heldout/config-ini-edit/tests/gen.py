"""Write /app/app.ini (sections with comments; `port` and `pool_size` also appear in [replica])."""
import os, random


def plan(seed):
    """Return (ini text, expected {section: {key: value}} after the requested edits, comment lines)."""
    rng = random.Random(seed)
    sections = {
        "server": {"host": rng.choice(["0.0.0.0", "127.0.0.1", "10.0.0.5"]), "port": str(rng.randint(3000, 8999)),
                   "debug": rng.choice(["true", "false"]), "workers": str(rng.randint(2, 32))},
        "database": {"host": f"db{rng.randint(1, 9)}.internal", "port": str(rng.choice([5432, 3306, 5433])),
                     "name": rng.choice(["shop", "app", "orders"]), "pool_size": str(rng.randint(2, 40))},
        "replica": {"host": f"db{rng.randint(10, 19)}.internal", "port": str(rng.randint(6000, 6999)),
                    "pool_size": str(rng.randint(2, 40))},
        "logging": {"level": rng.choice(["info", "warning", "debug"]), "file": "/var/log/app.log"},
    }
    lines, comments = [f"# application config generated for site {rng.randint(100, 999)}"], []
    for name, keys in sections.items():
        lines.append("")
        comment = f"; {name} settings (owner: team-{rng.choice(['red', 'blue', 'green'])})"
        lines += [comment, f"[{name}]"]
        items = list(keys.items())
        rng.shuffle(items)
        for k, v in items:
            lines.append(f"{k} = {v}")
    comments = [l for l in lines if l.startswith(("#", ";"))]
    expected = {s: dict(kv) for s, kv in sections.items()}
    expected["database"]["pool_size"] = str(2 * int(sections["database"]["pool_size"]))
    expected["server"]["port"] = "8443"
    del expected["server"]["debug"]
    expected["cache"] = {"backend": "redis", "ttl": "300"}
    return "\n".join(lines) + "\n", expected, comments


if __name__ == "__main__":
    text, _, _ = plan(int(os.environ.get("TASK_SEED", "0")))
    with open("/app/app.ini", "w") as f:
        f.write(text)
