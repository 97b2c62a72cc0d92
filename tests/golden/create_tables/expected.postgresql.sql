-- schemasync plan sha256:22e0fd04894fab675dd5ed61b0fc6911dc5ec949d2fa359b511a2bf1eeb51aae (postgresql)

-- 1. create table authors (4 columns)
CREATE TABLE authors (
	id SERIAL NOT NULL, 
	name VARCHAR(80) NOT NULL, 
	active BOOLEAN DEFAULT true NOT NULL, 
	rating NUMERIC(5, 2) DEFAULT 0, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_authors_name UNIQUE (name)
);
COMMENT ON TABLE authors IS 'people who write';
COMMENT ON COLUMN authors.name IS 'display name';

-- 2. create table books (5 columns)
CREATE TABLE books (
	id BIGSERIAL NOT NULL, 
	author_id INTEGER NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	pages INTEGER, 
	published DATE, 
	PRIMARY KEY (id), 
	CONSTRAINT ck_books_pages CHECK (pages > 0), 
	FOREIGN KEY(author_id) REFERENCES authors (id) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX ix_books_author_title ON books (author_id, title);
