-- schemasync plan sha256:f0081b8a1a592c49e29c1e688534c25308133d4ffd20f448be9de0f12541444d (mysql)

-- 1. keep the rows of table obsolete in schemasync_backup_2_obsolete
CREATE TABLE schemasync_backup_2_obsolete AS SELECT id FROM obsolete;

-- 2. keep the values of pets.(legacy) by (id) in schemasync_backup_2_pets__columns
CREATE TABLE schemasync_backup_2_pets__columns AS SELECT id, legacy FROM pets;
CREATE INDEX schemasync_backup_2_pets__columns_key ON schemasync_backup_2_pets__columns (id);

-- 3. drop foreign key fk_pets_owner on pets(owner_id)
ALTER TABLE pets DROP FOREIGN KEY fk_pets_owner;

-- 4. drop table obsolete (destructive) [data-loss]
DROP TABLE obsolete;

-- 5. drop check ck_pets_legs on pets
ALTER TABLE pets DROP CONSTRAINT ck_pets_legs;

-- 6. drop index ix_pets_legs on pets
DROP INDEX ix_pets_legs ON pets;

-- 7. drop index uq_pets_name on pets
DROP INDEX uq_pets_name ON pets;

-- 8. drop index fk_pets_owner on pets
DROP INDEX fk_pets_owner ON pets;

-- 9. drop column pets.legacy (destructive) [data-loss]
ALTER TABLE pets DROP COLUMN legacy;
