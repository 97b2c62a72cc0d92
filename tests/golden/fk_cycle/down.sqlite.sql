-- schemasync plan sha256:e64a15a1c786369a085c0b17aef942609414249eb75d5d5a2e91709b14ad8ba1 (sqlite)

-- 1. keep the rows of table departments in schemasync_backup_3_departments
CREATE TABLE schemasync_backup_3_departments AS SELECT id, head_id FROM departments;

-- 2. keep the rows of table employees in schemasync_backup_3_employees
CREATE TABLE schemasync_backup_3_employees AS SELECT id, department_id FROM employees;

-- 3. drop table employees (destructive) [data-loss]
DROP TABLE employees;

-- 4. drop table departments (destructive) [data-loss]
DROP TABLE departments;
