-- schemasync plan sha256:f2def794bb822e129ef146147b14da5e57cc049d1c8a0edf28b2982cca5a1cfe (sqlite)

-- 1. keep the values of items.(sku, price) by (id) in schemasync_backup_3_items__columns
CREATE TABLE schemasync_backup_3_items__columns AS SELECT id, sku, price FROM items;
CREATE INDEX schemasync_backup_3_items__columns_key ON schemasync_backup_3_items__columns (id);

-- 2. drop index ix_items_sku on items
DROP INDEX ix_items_sku;

-- 3. rebuild table items (copy rows) to: alter column items.name: type VARCHAR(100) -> VARCHAR(20), set NOT NULL; alter column items.note: type TEXT -> VARCHAR(50); alter column items.qty: type BIGINT -> INTEGER, default 5 -> 1; drop column items.sku; drop column items.price (destructive) [data-loss, data-dependent, table-rewrite, long-lock]
CREATE TABLE _schemasync_new_items (
	id INTEGER NOT NULL, 
	name VARCHAR(20) NOT NULL, 
	note VARCHAR(50), 
	qty INTEGER DEFAULT 1, 
	PRIMARY KEY (id)
);
INSERT INTO _schemasync_new_items (id, name, note, qty) SELECT id, name, note, qty FROM items;
DROP TABLE items;
ALTER TABLE _schemasync_new_items RENAME TO items;
