-- schemasync plan sha256:e008b132cf8fe07c6801f4fdd9b5f17fe9af07c29c897e2c17e7806c11bd6eb9 (postgresql)

-- 1. create table departments (2 columns)
CREATE TABLE departments (
	id SERIAL NOT NULL, 
	head_id INTEGER, 
	PRIMARY KEY (id)
);

-- 2. create table employees (2 columns)
CREATE TABLE employees (
	id SERIAL NOT NULL, 
	department_id INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_employees_department FOREIGN KEY(department_id) REFERENCES departments (id)
);

-- 3. add foreign key fk_departments_head departments(head_id) -> employees(id)
ALTER TABLE departments ADD CONSTRAINT fk_departments_head FOREIGN KEY(head_id) REFERENCES employees (id);
