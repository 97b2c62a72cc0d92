-- schemasync plan sha256:bd319cf081327cfc255de7aa05df3f2198c242d04c9259c5639058722079ad14 (mysql)

-- 1. create table departments (2 columns)
CREATE TABLE departments (
	id INTEGER(11) NOT NULL AUTO_INCREMENT, 
	head_id INTEGER(11), 
	PRIMARY KEY (id)
);

-- 2. create table employees (2 columns)
CREATE TABLE employees (
	id INTEGER(11) NOT NULL AUTO_INCREMENT, 
	department_id INTEGER(11), 
	PRIMARY KEY (id), 
	CONSTRAINT fk_employees_department FOREIGN KEY(department_id) REFERENCES departments (id)
);

-- 3. add foreign key fk_departments_head departments(head_id) -> employees(id)
ALTER TABLE departments ADD CONSTRAINT fk_departments_head FOREIGN KEY(head_id) REFERENCES employees (id);
