-- schemasync plan sha256:068632621b43c5a64f8c90a6e2b69a75ba725864538e93d289f708c81523945b (postgresql)

-- 1. keep the values of items.(name, note, qty, sku, price) by (id) in schemasync_backup_3_items__columns
CREATE TABLE schemasync_backup_3_items__columns AS SELECT id, name, note, qty, sku, price FROM items;
CREATE INDEX schemasync_backup_3_items__columns_key ON schemasync_backup_3_items__columns (id);

-- 2. drop index ix_items_sku on items
DROP INDEX ix_items_sku;

-- 3. alter column items.name: type VARCHAR(100) -> VARCHAR(20), set NOT NULL (destructive) [data-loss, data-dependent, table-rewrite, long-lock]
ALTER TABLE items ALTER COLUMN name TYPE VARCHAR(20) USING name::VARCHAR(20), ALTER COLUMN name SET NOT NULL;

-- 4. alter column items.note: type TEXT -> VARCHAR(50), comment (destructive) [data-loss, data-dependent, table-rewrite, long-lock]
ALTER TABLE items ALTER COLUMN note TYPE VARCHAR(50) USING note::VARCHAR(50);
COMMENT ON COLUMN items.note IS NULL;

-- 5. alter column items.qty: type BIGINT -> INTEGER, default 5 -> 1 (destructive) [data-loss, data-dependent, table-rewrite, long-lock]
ALTER TABLE items ALTER COLUMN qty DROP DEFAULT, ALTER COLUMN qty TYPE INTEGER USING qty::INTEGER, ALTER COLUMN qty SET DEFAULT 1;

-- 6. drop column items.sku (destructive) [data-loss]
ALTER TABLE items DROP COLUMN sku;

-- 7. drop column items.price (destructive) [data-loss]
ALTER TABLE items DROP COLUMN price;
