-- 1. drop foreign key fk_pets_owner on pets(owner_id)
ALTER TABLE pets DROP CONSTRAINT fk_pets_owner;

-- 2. drop check ck_pets_legs on pets
ALTER TABLE pets DROP CONSTRAINT ck_pets_legs;

-- 3. drop index ix_pets_legs on pets
DROP INDEX ix_pets_legs;

-- 4. drop unique constraint uq_pets_name on pets
ALTER TABLE pets DROP CONSTRAINT uq_pets_name;

-- 5. drop table obsolete (destructive)
DROP TABLE obsolete;

-- 6. drop column pets.legacy (destructive)
ALTER TABLE pets DROP COLUMN legacy;
