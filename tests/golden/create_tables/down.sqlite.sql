-- schemasync plan sha256:5c393438fccd5d89e1f2d17e5b5230886c45f05d4bf8dd8807b81b8542429bd5 (sqlite)

-- 1. keep the rows of table authors in schemasync_backup_3_authors
CREATE TABLE schemasync_backup_3_authors AS SELECT id, name, active, rating FROM authors;

-- 2. keep the rows of table books in schemasync_backup_3_books
CREATE TABLE schemasync_backup_3_books AS SELECT id, author_id, title, pages, published FROM books;

-- 3. drop table books (destructive) [data-loss]
DROP TABLE books;

-- 4. drop table authors (destructive) [data-loss]
DROP TABLE authors;
