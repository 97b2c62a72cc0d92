-- schemasync plan sha256:a4620f6a764cff7d5af548e82c23ec2cb0bbbaa720a6b453cfd7c6aa7a73359c (mysql)

-- 1. keep the rows of table authors in schemasync_backup_3_authors
CREATE TABLE schemasync_backup_3_authors AS SELECT id, name, active, rating FROM authors;

-- 2. keep the rows of table books in schemasync_backup_3_books
CREATE TABLE schemasync_backup_3_books AS SELECT id, author_id, title, pages, published FROM books;

-- 3. drop table books (destructive) [data-loss]
DROP TABLE books;

-- 4. drop table authors (destructive) [data-loss]
DROP TABLE authors;
