-- schemasync plan sha256:92b9433145aefa595eaab9ac8ce56fb56ee0a897c2d2be384737aed4df3daed2 (postgresql)

-- 1. keep the rows of table departments in schemasync_backup_3_departments
CREATE TABLE schemasync_backup_3_departments AS SELECT id, head_id FROM departments;

-- 2. keep the rows of table employees in schemasync_backup_3_employees
CREATE TABLE schemasync_backup_3_employees AS SELECT id, department_id FROM employees;

-- 3. drop foreign key fk_departments_head on departments(head_id)
ALTER TABLE departments DROP CONSTRAINT fk_departments_head;

-- 4. drop table employees (destructive) [data-loss]
DROP TABLE employees;

-- 5. drop table departments (destructive) [data-loss]
DROP TABLE departments;
