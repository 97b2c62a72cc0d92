-- schemasync plan sha256:8c8756d6b1e39516bd3941f1d2bbb0e7bf9f6c7bc7ed5c09d9b91aa90a2efc12 (mysql)

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
