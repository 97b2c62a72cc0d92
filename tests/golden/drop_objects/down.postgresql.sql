-- schemasync plan sha256:59df489665d9494674fcb8b68a947498d70583be8ec0e33b366fdc8bb728df48 (postgresql)

-- 1. create table obsolete (1 columns)
CREATE TABLE obsolete (
	id SERIAL NOT NULL, 
	PRIMARY KEY (id)
);

-- 2. add column pets.legacy VARCHAR(10)
ALTER TABLE pets ADD COLUMN legacy VARCHAR(10);

-- 3. add check ck_pets_legs on pets: legs >= 0 [data-dependent, long-lock]
ALTER TABLE pets ADD CONSTRAINT ck_pets_legs CHECK (legs >= 0);

-- 4. add unique constraint uq_pets_name on pets (name) [data-dependent, long-lock, index-build]
ALTER TABLE pets ADD CONSTRAINT uq_pets_name UNIQUE (name);

-- 5. create index ix_pets_legs on pets (legs) [long-lock, index-build]
CREATE INDEX ix_pets_legs ON pets (legs);

-- 6. add foreign key fk_pets_owner pets(owner_id) -> owners(id) [data-dependent, long-lock]
ALTER TABLE pets ADD CONSTRAINT fk_pets_owner FOREIGN KEY(owner_id) REFERENCES owners (id);
