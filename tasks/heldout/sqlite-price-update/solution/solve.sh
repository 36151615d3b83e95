#!/bin/bash
sqlite3 /app/inventory.db "UPDATE products SET price_cents = price_cents * 11 / 10 WHERE category = 'tools';
DELETE FROM products WHERE stock = 0;"
