-- schemasync plan sha256:0ccfd0ad49771b1294d88703122c80c496c5b0ed83343333c8d3af6798eb959b (sqlite)

-- 1. keep the rows of table departments in schemasync_backup_2_departments
CREATE TABLE schemasync_backup_2_departments AS SELECT id, head_id FROM departments;

-- 2. keep the rows of table employees in schemasync_backup_2_employees
CREATE TABLE schemasync_backup_2_employees AS SELECT id, department_id FROM employees;

-- 3. drop table employees (destructive) [data-loss]
DROP TABLE employees;

-- 4. drop table departments (destructive) [data-loss]
DROP TABLE departments;
