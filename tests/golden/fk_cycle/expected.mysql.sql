-- schemasync plan sha256:95cdc01750a3a1faaaa2e28c96da97b59440197fc9f5f988e118cbe0e3240100 (mysql)

-- 1. create table departments (2 columns)
CREATE TABLE departments (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	head_id INTEGER, 
	PRIMARY KEY (id)
);

-- 2. create table employees (2 columns)
CREATE TABLE employees (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	department_id INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_employees_department FOREIGN KEY(department_id) REFERENCES departments (id)
);

-- 3. add foreign key fk_departments_head departments(head_id) -> employees(id)
ALTER TABLE departments ADD CONSTRAINT fk_departments_head FOREIGN KEY(head_id) REFERENCES employees (id);
