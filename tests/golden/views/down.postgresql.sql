-- schemasync plan sha256:52879b6d7000204216545168ff4686a1af8c52a7bda5181e90571b507c50c791 (postgresql)

-- 1. drop view active_names
DROP VIEW active_names;

-- 2. drop view active_users
DROP VIEW active_users;
