-- schemasync plan sha256:49123961a1c245c2cab616d5047ed1a69f8ffbce203866289dd2dc3149881f75 (postgresql)

-- 1. keep the rows of table authors in schemasync_backup_3_authors
CREATE TABLE schemasync_backup_3_authors AS SELECT id, name, active, rating FROM authors;

-- 2. keep the rows of table books in schemasync_backup_3_books
CREATE TABLE schemasync_backup_3_books AS SELECT id, author_id, title, pages, published FROM books;

-- 3. drop table books (destructive) [data-loss]
DROP TABLE books;

-- 4. drop table authors (destructive) [data-loss]
DROP TABLE authors;
