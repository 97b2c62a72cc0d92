-- schemasync plan sha256:e7603d2b4210f48558b792947bb8e689c3b01923eb3ecc2a0513d3bc51c287f4 (sqlite)

-- 1. rebuild table items (copy rows) to: alter column items.name: type VARCHAR(20) -> VARCHAR(100), drop NOT NULL; alter column items.note: type VARCHAR(50) -> TEXT; alter column items.qty: type INTEGER -> BIGINT, default 1 -> 5; add column items.sku VARCHAR(12); add column items.price NUMERIC(10, 2) NOT NULL [table-rewrite, long-lock, index-build]
CREATE TABLE _schemasync_new_items (
	id INTEGER NOT NULL, 
	name VARCHAR(100), 
	note TEXT, 
	qty BIGINT DEFAULT 5, 
	sku VARCHAR(12), 
	price NUMERIC(10, 2) DEFAULT 0 NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO _schemasync_new_items (id, name, note, qty) SELECT id, name, note, qty FROM items;
DROP TABLE items;
ALTER TABLE _schemasync_new_items RENAME TO items;
CREATE INDEX ix_items_sku ON items (sku);
