-- schemasync plan sha256:2ce0e5b4bbee0667b884add2feeeda584b86a7ef67b4468339b3022bbf394996 (sqlite)

-- 1. keep the rows of table authors in schemasync_backup_2_authors
CREATE TABLE schemasync_backup_2_authors AS SELECT id, name, active, rating FROM authors;

-- 2. keep the rows of table books in schemasync_backup_2_books
CREATE TABLE schemasync_backup_2_books AS SELECT id, author_id, title, pages, published FROM books;

-- 3. drop table books (destructive) [data-loss]
DROP TABLE books;

-- 4. drop table authors (destructive) [data-loss]
DROP TABLE authors;
