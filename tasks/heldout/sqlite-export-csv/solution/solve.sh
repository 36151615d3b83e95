#!/bin/bash
sqlite3 -csv -header /app/company.db "
SELECT e.id, e.name, e.salary FROM employees e JOIN departments d ON d.id = e.department_id
WHERE d.name = 'Engineering' ORDER BY e.salary DESC;" > /app/engineering.csv
