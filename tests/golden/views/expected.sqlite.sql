-- schemasync plan sha256:37a81b373947170846894f2644729c3bf4fd075ee3e39c478a4d9cfead971dae (sqlite)

-- 1. create view active_users
CREATE VIEW active_users AS SELECT users.id, users.name 
FROM users 
WHERE users.active = 1;

-- 2. create view active_names
CREATE VIEW active_names AS SELECT active_users.name 
FROM active_users 
WHERE active_users.name != 'nobody';
