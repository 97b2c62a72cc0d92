-- schemasync plan sha256:104a4189de3506ca501072485771598beeb8d7a08b189a91ee753c3bd95477aa (postgresql)

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
