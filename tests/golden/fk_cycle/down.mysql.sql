-- schemasync plan sha256:301d1191554144b6924ce966751b6fe2cddef0097e929c865d200a459bed51ca (mysql)

-- 1. keep the rows of table departments in schemasync_backup_3_departments
CREATE TABLE schemasync_backup_3_departments AS SELECT id, head_id FROM departments;

-- 2. keep the rows of table employees in schemasync_backup_3_employees
CREATE TABLE schemasync_backup_3_employees AS SELECT id, department_id FROM employees;

-- 3. drop foreign key fk_departments_head on departments(head_id)
ALTER TABLE departments DROP FOREIGN KEY fk_departments_head;

-- 4. drop table employees (destructive) [data-loss]
DROP TABLE employees;

-- 5. drop table departments (destructive) [data-loss]
DROP TABLE departments;
