-- schemasync plan sha256:916c2251d1036ee0a525ee932d9552de15016a9f38298ce5bf548bf6da498c5a (mysql)

-- 1. keep the values of items.(name, note, qty, sku, price) by (id) in schemasync_backup_3_items__columns
CREATE TABLE schemasync_backup_3_items__columns AS SELECT id, name, note, qty, sku, price FROM items;

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
