-- schemasync plan sha256:a849c4b19aff3d509fb38861b35bf1c7cd99b5b1cba0b5bdbfce6710a5f3edee (postgresql)

-- 1. keep the rows of table authors in schemasync_backup_2_authors
CREATE TABLE schemasync_backup_2_authors AS SELECT id, name, active, rating FROM authors;

-- 2. keep the rows of table books in schemasync_backup_2_books
CREATE TABLE schemasync_backup_2_books AS SELECT id, author_id, title, pages, published FROM books;

-- 3. drop table books (destructive) [data-loss]
DROP TABLE books;

-- 4. drop table authors (destructive) [data-loss]
DROP TABLE authors;
