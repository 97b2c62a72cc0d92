-- schemasync plan sha256:39def0e8765fd99b98d06eb258f3ad1ebde9155c6cf45b356f3ee36fbffe4a3c (sqlite)

-- 1. keep the rows of table obsolete in schemasync_backup_2_obsolete
CREATE TABLE schemasync_backup_2_obsolete AS SELECT id FROM obsolete;

-- 2. keep the values of pets.(legacy) by (id) in schemasync_backup_2_pets__columns
CREATE TABLE schemasync_backup_2_pets__columns AS SELECT id, legacy FROM pets;
CREATE INDEX schemasync_backup_2_pets__columns_key ON schemasync_backup_2_pets__columns (id);

-- 3. drop table obsolete (destructive) [data-loss]
DROP TABLE obsolete;

-- 4. drop index ix_pets_legs on pets
DROP INDEX ix_pets_legs;

-- 5. rebuild table pets (copy rows) to: drop foreign key fk_pets_owner on pets(owner_id); drop unique constraint uq_pets_name on pets; drop check ck_pets_legs on pets; drop column pets.legacy (destructive) [data-loss, table-rewrite, long-lock]
CREATE TABLE _schemasync_new_pets (
	id INTEGER NOT NULL, 
	owner_id INTEGER, 
	name VARCHAR(30), 
	legs INTEGER, 
	PRIMARY KEY (id)
);
INSERT INTO _schemasync_new_pets (id, owner_id, name, legs) SELECT id, owner_id, name, legs FROM pets;
DROP TABLE pets;
ALTER TABLE _schemasync_new_pets RENAME TO pets;
