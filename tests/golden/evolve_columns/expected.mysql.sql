-- schemasync plan sha256:ffa2ed65da80268d75cb8b4684b9ecada726fc7be80000854b78c5c1a8188f32 (mysql)

-- 1. add column items.sku VARCHAR(12)
ALTER TABLE items ADD COLUMN sku VARCHAR(12);

-- 2. add column items.price DECIMAL(10, 2) NOT NULL
ALTER TABLE items ADD COLUMN price DECIMAL(10, 2) NOT NULL DEFAULT (0.00);

-- 3. alter column items.name: type VARCHAR(20) -> VARCHAR(100), drop NOT NULL [table-rewrite]
ALTER TABLE items MODIFY name VARCHAR(100);

-- 4. alter column items.note: type VARCHAR(50) -> TEXT, comment [table-rewrite, long-lock]
ALTER TABLE items MODIFY note TEXT COMMENT 'free text';

-- 5. alter column items.qty: type INTEGER(11) -> BIGINT(20), default 1 -> 5 [table-rewrite, long-lock]
ALTER TABLE items MODIFY qty BIGINT(20) DEFAULT 5;

-- 6. create index ix_items_sku on items (sku) [index-build]
CREATE INDEX ix_items_sku ON items (sku);
