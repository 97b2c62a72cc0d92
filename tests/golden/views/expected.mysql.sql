-- schemasync plan sha256:65a00cf275850f9d82a410e743f4b4ed66bb91dee5f73d13614bb3f19f1a2afe (mysql)

-- 1. create view active_users
CREATE VIEW active_users AS select `users`.`id` AS `id`,`users`.`name` AS `name` from `users` where `users`.`active` = 1;

-- 2. create view active_names
CREATE VIEW active_names AS select `active_users`.`name` AS `name` from `active_users` where `active_users`.`name` <> 'nobody';
