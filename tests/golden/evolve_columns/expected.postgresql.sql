-- schemasync plan sha256:cb23d72b65a6c6ca956a6c169f8fdf251778e0c9d090e0f9ee4305e234f1c95a (postgresql)

-- 1. add column items.sku VARCHAR(12)
ALTER TABLE items ADD COLUMN sku VARCHAR(12);

-- 2. add column items.price NUMERIC(10, 2) NOT NULL
ALTER TABLE items ADD COLUMN price NUMERIC(10, 2) DEFAULT 0 NOT NULL;

-- 3. alter column items.name: type VARCHAR(20) -> VARCHAR(100), drop NOT NULL
ALTER TABLE items ALTER COLUMN name TYPE VARCHAR(100) USING name::VARCHAR(100), ALTER COLUMN name DROP NOT NULL;

-- 4. alter column items.note: type VARCHAR(50) -> TEXT, comment
ALTER TABLE items ALTER COLUMN note TYPE TEXT USING note::TEXT;
COMMENT ON COLUMN items.note IS 'free text';

-- 5. alter column items.qty: type INTEGER -> BIGINT, default 1 -> 5 [table-rewrite, long-lock]
ALTER TABLE items ALTER COLUMN qty DROP DEFAULT, ALTER COLUMN qty TYPE BIGINT USING qty::BIGINT, ALTER COLUMN qty SET DEFAULT 5;

-- 6. create index ix_items_sku on items (sku) [long-lock, index-build]
CREATE INDEX ix_items_sku ON items (sku);
