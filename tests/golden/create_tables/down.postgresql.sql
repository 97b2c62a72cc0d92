-- schemasync plan sha256:cdf3d9499040f30c0803e51710331c14209c4c5ab4906362c849f26be5a6ab7a (postgresql)

-- 1. keep the rows of table authors in schemasync_backup_3_authors
CREATE TABLE schemasync_backup_3_authors AS SELECT id, name, active, rating FROM authors;

-- 2. keep the rows of table books in schemasync_backup_3_books
CREATE TABLE schemasync_backup_3_books AS SELECT id, author_id, title, pages, published FROM books;

-- 3. drop table books (destructive) [data-loss]
DROP TABLE books;

-- 4. drop table authors (destructive) [data-loss]
DROP TABLE authors;
