-- schemasync plan sha256:a073c3766d94cd3dc2028a5e3a33aef9a4819c9fea07eeb2833444dadf6d4779 (mysql)

-- 1. create table authors (4 columns)
CREATE TABLE authors (
	id INTEGER(11) NOT NULL AUTO_INCREMENT, 
	name VARCHAR(80) NOT NULL COMMENT 'display name', 
	active TINYINT(1) NOT NULL DEFAULT 1, 
	rating DECIMAL(5, 2) DEFAULT (0.00), 
	PRIMARY KEY (id), 
	CONSTRAINT uq_authors_name UNIQUE (name)
)COMMENT='people who write';

-- 2. create table books (5 columns)
CREATE TABLE books (
	id BIGINT(20) NOT NULL AUTO_INCREMENT, 
	author_id INTEGER(11) NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	pages INTEGER(11), 
	published DATE, 
	PRIMARY KEY (id), 
	CONSTRAINT ix_books_author_title UNIQUE (author_id, title), 
	CONSTRAINT ck_books_pages CHECK (`pages` > 0), 
	FOREIGN KEY(author_id) REFERENCES authors (id) ON DELETE CASCADE ON UPDATE CASCADE
);
