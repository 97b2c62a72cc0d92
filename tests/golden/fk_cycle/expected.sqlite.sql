-- schemasync plan sha256:e15a96198ae19fd6e90f7790341cba9c65f139830ee11365b27ceeec1a90414c (sqlite)

-- 1. create table departments (2 columns)
CREATE TABLE departments (
	id INTEGER NOT NULL, 
	head_id INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_departments_head FOREIGN KEY(head_id) REFERENCES employees (id)
);

-- 2. create table employees (2 columns)
CREATE TABLE employees (
	id INTEGER NOT NULL, 
	department_id INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT fk_employees_department FOREIGN KEY(department_id) REFERENCES departments (id)
);
