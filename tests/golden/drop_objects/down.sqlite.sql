-- schemasync plan sha256:0b8313fd0a64c89f0baa8ecff72bc79fbc5cb8fd8c2e83f205d7781a7877b6d8 (sqlite)

-- 1. create table obsolete (1 columns)
CREATE TABLE obsolete (
	id INTEGER NOT NULL, 
	PRIMARY KEY (id)
);

-- 2. rebuild table pets (copy rows) to: add foreign key fk_pets_owner pets(owner_id) -> owners(id); add unique constraint uq_pets_name on pets (name); add check ck_pets_legs on pets: legs >= 0; add column pets.legacy VARCHAR(10) [data-dependent, table-rewrite, long-lock, index-build]
CREATE TABLE _schemasync_new_pets (
	id INTEGER NOT NULL, 
	owner_id INTEGER, 
	name VARCHAR(30), 
	legs INTEGER, 
	legacy VARCHAR(10), 
	PRIMARY KEY (id), 
	CONSTRAINT uq_pets_name UNIQUE (name), 
	CONSTRAINT ck_pets_legs CHECK (legs >= 0), 
	CONSTRAINT fk_pets_owner FOREIGN KEY(owner_id) REFERENCES owners (id)
);
INSERT INTO _schemasync_new_pets (id, owner_id, name, legs) SELECT id, owner_id, name, legs FROM pets;
DROP TABLE pets;
ALTER TABLE _schemasync_new_pets RENAME TO pets;
CREATE INDEX ix_pets_legs ON pets (legs);
