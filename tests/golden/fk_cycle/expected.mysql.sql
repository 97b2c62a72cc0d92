-- schemasync plan sha256:d2a09cc5b74c81f819c8ba20f7a0a48b0b54a6361a4917537be49ce3b8d48b89 (mysql)

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
