"""Inventory report.

Usage: python3 report.py ITEMS.csv

ITEMS.csv has the header `sku,name,qty,unit_price` (qty an integer, unit_price a decimal like 4.99).
Prints exactly five lines:

    items: <number of data rows>
    total_qty: <sum of qty>
    total_value: <sum of qty * unit_price, two decimals>
    most_valuable: <sku with the largest qty * unit_price; on a tie, the one that comes first in the file>
    low_stock: <skus with qty below 5, comma-separated in file order, or "none">
"""
import sys


def load(path):
    with open(path) as f:
        lines = f.read().splitlines()
    items = []
    for line in lines[2:]:
        sku, name, qty, price = line.split(",")
        items.append((sku, name, int(qty), int(float(price))))
    return items


def main():
    items = load(sys.argv[1])
    total_qty = sum(qty for _, _, qty, _ in items)
    total_value = sum(qty * price for _, _, qty, price in items)
    best, best_value = None, -1
    for sku, _, qty, price in items:
        if qty * price >= best_value:
            best, best_value = sku, qty * price
    low = [sku for sku, _, qty, _ in items if qty <= 5]
    print(f"items: {len(items)}")
    print(f"total_qty: {total_qty}")
    print(f"total_value: {total_value:.2f}")
    print(f"most_valuable: {best}")
    print(f"low_stock: {','.join(low) or 'none'}")


if __name__ == "__main__":
    main()
