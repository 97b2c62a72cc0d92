-- schemasync plan sha256:08dd4f0f44281ee7a81b42e161d9c55c6b40afb8ab0a963a6a5dedc4e9379e19 (mysql)

-- 1. keep the rows of table authors in schemasync_backup_2_authors
CREATE TABLE schemasync_backup_2_authors AS SELECT id, name, active, rating FROM authors;

-- 2. keep the rows of table books in schemasync_backup_2_books
CREATE TABLE schemasync_backup_2_books AS SELECT id, author_id, title, pages, published FROM books;

-- 3. drop table books (destructive) [data-loss]
DROP TABLE books;

-- 4. drop table authors (destructive) [data-loss]
DROP TABLE authors;
