-- schemasync plan sha256:c77d606f22d968c55e716621ea856d3cccef2f75ca1d11cf0beeb961ba3331b7 (mysql)

-- 1. create view active_users
CREATE VIEW active_users AS select `users`.`id` AS `id`,`users`.`name` AS `name` from `users` where `users`.`active` = 1;

-- 2. create view active_names
CREATE VIEW active_names AS select `active_users`.`name` AS `name` from `active_users` where `active_users`.`name` <> 'nobody';
