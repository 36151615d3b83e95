"""Write /app/config/defaults.env and /app/config/production.env (KEY=VALUE files with comments)."""
import os, random

KEYS = ["APP_NAME", "APP_PORT", "DB_HOST", "DB_PORT", "DB_USER", "LOG_LEVEL", "CACHE_URL", "FEATURE_FLAGS",
        "SMTP_HOST", "TIMEZONE", "WORKERS", "SENTRY_DSN", "MAX_UPLOAD_MB", "API_BASE"]


def value(rng, key):
    return rng.choice([str(rng.randint(1, 9000)), f"{key.lower()}-{rng.randint(1, 99)}", "a=b;c=d",
                       "postgres://u:p@db/x?sslmode=require", "Europe/Oslo", "hello world"])


def plan(seed):
    """Return (defaults text, production text, expected final lines)."""
    rng = random.Random(seed)
    keys = rng.sample(KEYS, rng.randint(9, len(KEYS)))
    defaults = {k: value(rng, k) for k in keys[:-2]}
    prod_only = keys[-2:]
    overrides = rng.sample(sorted(defaults), 4)
    d_lines = ["# default settings", ""]
    for k, v in defaults.items():
        d_lines.append(f"{k}={v}")
    dup = rng.choice(list(defaults))  # a key repeated later in the same file: the later line wins
    defaults[dup] = value(rng, dup) + "-late"
    d_lines += ["", "# late change", f"{dup}={defaults[dup]}"]
    prod = {}
    p_lines = ["# production overrides"]
    for k in overrides + prod_only:
        prod[k] = "" if rng.random() < 0.15 else value(rng, k) + "-prod"
        p_lines += [f"{k}={prod[k]}", "" if rng.random() < 0.3 else "# next"]
    final = dict(defaults, **prod)
    return "\n".join(d_lines) + "\n", "\n".join(p_lines) + "\n", [f"{k}={final[k]}" for k in sorted(final)]


if __name__ == "__main__":
    d, p, _ = plan(int(os.environ.get("TASK_SEED", "0")))
    os.makedirs("/app/config", exist_ok=True)
    with open("/app/config/defaults.env", "w") as f:
        f.write(d)
    with open("/app/config/production.env", "w") as f:
        f.write(p)
