-- 1. drop table obsolete (destructive)
DROP TABLE obsolete;

-- 2. rebuild table pets (copy rows) to: drop foreign key fk_pets_owner on pets(owner_id); drop unique constraint uq_pets_name on pets; drop check ck_pets_legs on pets; drop column pets.legacy (destructive)
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
