-- schemasync plan sha256:96281298864e2e76904443b4612b1c3002890594e0ad9127b70c4ab6ada15c1a (postgresql)

-- 1. create view active_users
CREATE VIEW active_users AS SELECT id,
    name
   FROM users
  WHERE active = true;

-- 2. create view active_names
CREATE VIEW active_names AS SELECT name
   FROM active_users
  WHERE name::text <> 'nobody'::text;
