-- 1. drop foreign key fk_pets_owner on pets(owner_id)
ALTER TABLE pets DROP FOREIGN KEY fk_pets_owner;

-- 2. drop check ck_pets_legs on pets
ALTER TABLE pets DROP CONSTRAINT ck_pets_legs;

-- 3. drop index ix_pets_legs on pets
DROP INDEX ix_pets_legs ON pets;

-- 4. drop index uq_pets_name on pets
DROP INDEX uq_pets_name ON pets;

-- 5. drop index fk_pets_owner on pets
DROP INDEX fk_pets_owner ON pets;

-- 6. drop table obsolete (destructive)
DROP TABLE obsolete;

-- 7. drop column pets.legacy (destructive)
ALTER TABLE pets DROP COLUMN legacy;
