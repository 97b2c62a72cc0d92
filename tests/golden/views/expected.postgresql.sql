-- schemasync plan sha256:e6e836ca22b1895879fb42147906bf417e9e8cbd48c6d66e29d3631a6ffcae53 (postgresql)

-- 1. create view active_users
CREATE VIEW active_users AS SELECT users.id,
    users.name
   FROM users
  WHERE users.active = true;

-- 2. create view active_names
CREATE VIEW active_names AS SELECT active_users.name
   FROM active_users
  WHERE active_users.name::text <> 'nobody'::text;
