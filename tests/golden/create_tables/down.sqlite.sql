-- schemasync plan sha256:8de1f82e4274e8c0ec2c0bd62897d9e08f234c207f9fc63953e0660b2dbe1246 (sqlite)

-- 1. keep the rows of table authors in schemasync_backup_3_authors
CREATE TABLE schemasync_backup_3_authors AS SELECT id, name, active, rating FROM authors;

-- 2. keep the rows of table books in schemasync_backup_3_books
CREATE TABLE schemasync_backup_3_books AS SELECT id, author_id, title, pages, published FROM books;

-- 3. drop table books (destructive) [data-loss]
DROP TABLE books;

-- 4. drop table authors (destructive) [data-loss]
DROP TABLE authors;
