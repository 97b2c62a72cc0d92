-- schemasync plan sha256:f1525991b35f7c569a86af2766fdaa7d34cacbd06b508b58ab34ac2a75e70862 (postgresql)

-- 1. keep the rows of table obsolete in schemasync_backup_2_obsolete
CREATE TABLE schemasync_backup_2_obsolete AS SELECT id FROM obsolete;

-- 2. keep the values of pets.(legacy) by (id) in schemasync_backup_2_pets__columns
CREATE TABLE schemasync_backup_2_pets__columns AS SELECT id, legacy FROM pets;
CREATE INDEX schemasync_backup_2_pets__columns_key ON schemasync_backup_2_pets__columns (id);

-- 3. drop foreign key fk_pets_owner on pets(owner_id)
ALTER TABLE pets DROP CONSTRAINT fk_pets_owner;

-- 4. drop table obsolete (destructive) [data-loss]
DROP TABLE obsolete;

-- 5. drop check ck_pets_legs on pets
ALTER TABLE pets DROP CONSTRAINT ck_pets_legs;

-- 6. drop index ix_pets_legs on pets
DROP INDEX ix_pets_legs;

-- 7. drop unique constraint uq_pets_name on pets
ALTER TABLE pets DROP CONSTRAINT uq_pets_name;

-- 8. drop column pets.legacy (destructive) [data-loss]
ALTER TABLE pets DROP COLUMN legacy;
