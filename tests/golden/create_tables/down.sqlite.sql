-- schemasync plan sha256:119a4ecb2a0c008109855b37754466a8bca239ef73a5ab7b939febb5f5e31c4f (sqlite)

-- 1. keep the rows of table authors in schemasync_backup_2_authors
CREATE TABLE schemasync_backup_2_authors AS SELECT id, name, active, rating FROM authors;

-- 2. keep the rows of table books in schemasync_backup_2_books
CREATE TABLE schemasync_backup_2_books AS SELECT id, author_id, title, pages, published FROM books;

-- 3. drop table books (destructive) [data-loss]
DROP TABLE books;

-- 4. drop table authors (destructive) [data-loss]
DROP TABLE authors;
