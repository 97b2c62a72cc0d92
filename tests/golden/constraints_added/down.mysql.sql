-- schemasync plan sha256:cecb712f9792ab73a5b3103d271a290aae427c2f9c057a4f8d5dc83c835b1ce3 (mysql)

-- 1. drop foreign key fk_players_team on players(team_id)
ALTER TABLE players DROP FOREIGN KEY fk_players_team;

-- 2. drop check ck_players_number on players
ALTER TABLE players DROP CONSTRAINT ck_players_number;

-- 3. drop index fk_players_team on players
DROP INDEX fk_players_team ON players;

-- 4. drop index uq_teams_code on teams
DROP INDEX uq_teams_code ON teams;
