-- schemasync plan sha256:af88e5c640c91f834c239e59b3565f3976678fa1e432d11eb69392277db48f86 (sqlite)

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
