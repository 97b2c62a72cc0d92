-- schemasync plan sha256:6f6f2f597f2acc85272b89cfd5400700f31eeccadc463e114c4868e666bccf60 (mysql)

-- 1. create table obsolete (1 columns)
CREATE TABLE obsolete (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	PRIMARY KEY (id)
);

-- 2. add column pets.legacy VARCHAR(10)
ALTER TABLE pets ADD COLUMN legacy VARCHAR(10);

-- 3. add check ck_pets_legs on pets: `legs` >= 0 [data-dependent, table-rewrite, long-lock]
ALTER TABLE pets ADD CONSTRAINT ck_pets_legs CHECK (`legs` >= 0);

-- 4. create index ix_pets_legs on pets (legs) [index-build]
CREATE INDEX ix_pets_legs ON pets (legs);

-- 5. create unique index uq_pets_name on pets (name) [data-dependent, index-build]
CREATE UNIQUE INDEX uq_pets_name ON pets (name);

-- 6. add foreign key fk_pets_owner pets(owner_id) -> owners(id) [data-dependent, table-rewrite, long-lock]
ALTER TABLE pets ADD CONSTRAINT fk_pets_owner FOREIGN KEY(owner_id) REFERENCES owners (id);
