#!/bin/bash
sqlite3 -separator , /app/shop.db "
SELECT c.name, printf('%.2f', SUM(o.amount_cents) / 100.0) FROM orders o JOIN customers c ON c.id = o.customer_id
WHERE o.status = 'paid' AND o.order_date LIKE '2023-%'
GROUP BY c.id ORDER BY SUM(o.amount_cents) DESC LIMIT 3;" > /app/top_customers.txt
