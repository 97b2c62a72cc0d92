-- schemasync plan sha256:9665b1c3852ca4ad05cf9a6444228141d33a2e71971f266d4687ea91249f0572 (postgresql)

-- 1. drop view active_names
DROP VIEW active_names;

-- 2. drop view active_users
DROP VIEW active_users;
