-- schemasync plan sha256:53f84036d4da37d26e4e4aea6adf40dd9a69be854cbf7c66ac212313a8535643 (mysql)

-- 1. add column items.sku VARCHAR(12)
ALTER TABLE items ADD COLUMN sku VARCHAR(12);

-- 2. add column items.price DECIMAL(10, 2) NOT NULL
ALTER TABLE items ADD COLUMN price DECIMAL(10, 2) NOT NULL DEFAULT 0;

-- 3. alter column items.name: type VARCHAR(20) -> VARCHAR(100), drop NOT NULL [table-rewrite]
ALTER TABLE items MODIFY name VARCHAR(100);

-- 4. alter column items.note: type VARCHAR(50) -> TEXT, comment [table-rewrite, long-lock]
ALTER TABLE items MODIFY note TEXT COMMENT 'free text';

-- 5. alter column items.qty: type INTEGER -> BIGINT, default 1 -> 5 [table-rewrite, long-lock]
ALTER TABLE items MODIFY qty BIGINT DEFAULT 5;

-- 6. create index ix_items_sku on items (sku) [index-build]
CREATE INDEX ix_items_sku ON items (sku);
