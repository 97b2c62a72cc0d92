-- schemasync plan sha256:bff3c2f16f94cf1de7540f948f2e2969a8b3e8100d93bdfad1bb67f5d15d7162 (mysql)

-- 1. drop view active_names
DROP VIEW active_names;

-- 2. drop view active_users
DROP VIEW active_users;
