-- schemasync plan sha256:97a559e2bdfcc7739f6049fc3a456090d31f9f2ea48c818052a72c2b62af91e0 (mysql)

-- 1. keep the values of items.(name, note, qty, sku, price) by (id) in schemasync_backup_3_items__columns
CREATE TABLE schemasync_backup_3_items__columns AS SELECT id, name, note, qty, sku, price FROM items;
CREATE INDEX schemasync_backup_3_items__columns_key ON schemasync_backup_3_items__columns (id);

-- 2. drop index ix_items_sku on items
DROP INDEX ix_items_sku ON items;

-- 3. alter column items.name: type VARCHAR(100) -> VARCHAR(20), set NOT NULL (destructive) [data-loss, data-dependent, table-rewrite, long-lock]
ALTER TABLE items MODIFY name VARCHAR(20) NOT NULL;

-- 4. alter column items.note: type TEXT -> VARCHAR(50), comment (destructive) [data-loss, data-dependent, table-rewrite, long-lock]
ALTER TABLE items MODIFY note VARCHAR(50);

-- 5. alter column items.qty: type BIGINT -> INTEGER, default 5 -> 1 (destructive) [data-loss, data-dependent, table-rewrite, long-lock]
ALTER TABLE items MODIFY qty INTEGER DEFAULT 1;

-- 6. drop column items.sku (destructive) [data-loss]
ALTER TABLE items DROP COLUMN sku;

-- 7. drop column items.price (destructive) [data-loss]
ALTER TABLE items DROP COLUMN price;
