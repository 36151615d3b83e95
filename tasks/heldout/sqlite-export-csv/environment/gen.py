"""Build /app/company.db: departments and employees with distinct salaries."""
import os, random, sqlite3

FIRST = ["Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "June", "Kai", "Lena", "Milo", "Nia",
         "Omar", "Pia", "Quinn", "Rosa", "Sam", "Tess"]
LAST = ["Stone", "Reyes", "Okafor", "Nguyen", "Berg", "Costa", "Ito", "Khan", "Moreau", "Novak", "Silva"]
DEPTS = ["Engineering", "Sales", "Support", "Finance", "Engineering Ops"]


def plan(seed):
    """Return (departments, employees, expected) where expected = [(id, name, salary)] for Engineering."""
    rng = random.Random(seed)
    depts = [(i + 1, d) for i, d in enumerate(rng.sample(DEPTS, len(DEPTS)))]
    names = rng.sample([f"{f} {l}" for f in FIRST for l in LAST], rng.randint(30, 50))
    salaries = rng.sample(range(40000, 180000, 250), len(names))
    emps = [(i + 101, n, rng.randint(1, len(depts)), s, rng.choice(["2019", "2021", "2023"]) + "-03-01")
            for i, (n, s) in enumerate(zip(names, salaries))]
    eng = dict((name, i) for i, name in depts)["Engineering"]
    if not any(e[2] == eng for e in emps):
        emps[0] = (emps[0][0], emps[0][1], eng, emps[0][3], emps[0][4])
    expected = sorted([(e[0], e[1], e[3]) for e in emps if e[2] == eng], key=lambda r: -r[2])
    return depts, emps, expected


def build(path, seed):
    depts, emps, _ = plan(seed)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE departments (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    db.execute("CREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
               "department_id INTEGER REFERENCES departments(id), salary INTEGER, hired TEXT)")
    db.executemany("INSERT INTO departments VALUES (?, ?)", depts)
    db.executemany("INSERT INTO employees VALUES (?, ?, ?, ?, ?)", emps)
    db.commit()
    db.close()


if __name__ == "__main__":
    build("/app/company.db", int(os.environ.get("TASK_SEED", "0")))
