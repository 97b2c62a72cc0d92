-- schemasync plan sha256:f1fb15a4c1a1ae8129adb6212c16cae0a360d23c1a9e8fe4841843a30e107769 (mysql)

-- 1. keep the rows of table authors in schemasync_backup_2_authors
CREATE TABLE schemasync_backup_2_authors AS SELECT id, name, active, rating FROM authors;

-- 2. keep the rows of table books in schemasync_backup_2_books
CREATE TABLE schemasync_backup_2_books AS SELECT id, author_id, title, pages, published FROM books;

-- 3. drop table books (destructive) [data-loss]
DROP TABLE books;

-- 4. drop table authors (destructive) [data-loss]
DROP TABLE authors;
