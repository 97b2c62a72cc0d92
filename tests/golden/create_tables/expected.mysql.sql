-- schemasync plan sha256:c9515ff24d584e66b8e0a5749e77071125465bf3003795548d49f6cb8a15a2d3 (mysql)

-- 1. create table authors (4 columns)
CREATE TABLE authors (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	name VARCHAR(80) NOT NULL COMMENT 'display name', 
	active TINYINT(1) NOT NULL DEFAULT 1, 
	rating DECIMAL(5, 2) DEFAULT 0, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_authors_name UNIQUE (name)
)COMMENT='people who write';

-- 2. create table books (5 columns)
CREATE TABLE books (
	id BIGINT NOT NULL AUTO_INCREMENT, 
	author_id INTEGER NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	pages INTEGER, 
	published DATE, 
	PRIMARY KEY (id), 
	CONSTRAINT ix_books_author_title UNIQUE (author_id, title), 
	CONSTRAINT ck_books_pages CHECK (`pages` > 0), 
	FOREIGN KEY(author_id) REFERENCES authors (id) ON DELETE CASCADE ON UPDATE CASCADE
);
