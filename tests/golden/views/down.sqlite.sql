-- schemasync plan sha256:64b2b4a6a4552ecb668b49064d724cc33bcf557b7b99d314d0b9a107495822c7 (sqlite)

-- 1. drop view active_names
DROP VIEW active_names;

-- 2. drop view active_users
DROP VIEW active_users;
