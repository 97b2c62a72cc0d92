-- schemasync plan sha256:0551c0fd125b609f720b89a4646e4a178f9d4860fb8070073a5a6446c3c29cc6 (postgresql)

-- 1. add column items.sku VARCHAR(12)
ALTER TABLE items ADD COLUMN sku VARCHAR(12);

-- 2. add column items.price NUMERIC(10, 2) NOT NULL
ALTER TABLE items ADD COLUMN price NUMERIC(10, 2) DEFAULT '0'::numeric NOT NULL;

-- 3. alter column items.name: type VARCHAR(20) -> VARCHAR(100), drop NOT NULL
ALTER TABLE items ALTER COLUMN name TYPE VARCHAR(100) USING name::VARCHAR(100), ALTER COLUMN name DROP NOT NULL;

-- 4. alter column items.note: type VARCHAR(50) -> TEXT, comment
ALTER TABLE items ALTER COLUMN note TYPE TEXT USING note::TEXT;
COMMENT ON COLUMN items.note IS 'free text';

-- 5. alter column items.qty: type INTEGER -> BIGINT, default 1 -> '5'::bigint [table-rewrite, long-lock]
ALTER TABLE items ALTER COLUMN qty DROP DEFAULT, ALTER COLUMN qty TYPE BIGINT USING qty::BIGINT, ALTER COLUMN qty SET DEFAULT '5'::bigint;

-- 6. create index ix_items_sku on items (sku) [long-lock, index-build]
CREATE INDEX ix_items_sku ON items (sku);
