-- schemasync plan sha256:f89e31ce7e78279f11912dd64556a52c82abe103d006b5be4db83ee23b3e9973 (sqlite)

-- 1. create table authors (4 columns)
CREATE TABLE authors (
	id INTEGER NOT NULL, 
	name VARCHAR(80) NOT NULL, 
	active BOOLEAN DEFAULT 1 NOT NULL, 
	rating NUMERIC(5, 2) DEFAULT 0, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_authors_name UNIQUE (name)
);

-- 2. create table books (5 columns)
CREATE TABLE books (
	id BIGINT NOT NULL, 
	author_id INTEGER NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	pages INTEGER, 
	published DATE, 
	PRIMARY KEY (id), 
	CONSTRAINT ck_books_pages CHECK (pages > 0), 
	FOREIGN KEY(author_id) REFERENCES authors (id) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX ix_books_author_title ON books (author_id, title);
