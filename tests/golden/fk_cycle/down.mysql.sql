-- schemasync plan sha256:0077144a7b781caa98bd4ec4dfda14be4f88d0e210367ff82b932c29f6386ec5 (mysql)

-- 1. keep the rows of table departments in schemasync_backup_2_departments
CREATE TABLE schemasync_backup_2_departments AS SELECT id, head_id FROM departments;

-- 2. keep the rows of table employees in schemasync_backup_2_employees
CREATE TABLE schemasync_backup_2_employees AS SELECT id, department_id FROM employees;

-- 3. drop foreign key fk_departments_head on departments(head_id)
ALTER TABLE departments DROP FOREIGN KEY fk_departments_head;

-- 4. drop table employees (destructive) [data-loss]
DROP TABLE employees;

-- 5. drop table departments (destructive) [data-loss]
DROP TABLE departments;
