-- schemasync plan sha256:3a8688f3e366ec785b0094f361c44e658ccd6bcf43cdbaa58bcda0cfdd9ab70b (mysql)

-- 1. drop view active_names
DROP VIEW active_names;

-- 2. drop view active_users
DROP VIEW active_users;
