-- schemasync plan sha256:9c6c9007b4453981d2f03beda43314970bc22fbce060c1e1a5cdf746d13e99f8 (mysql)

-- 1. drop foreign key fk_players_team on players(team_id)
ALTER TABLE players DROP FOREIGN KEY fk_players_team;

-- 2. drop check ck_players_number on players
ALTER TABLE players DROP CONSTRAINT ck_players_number;

-- 3. drop index fk_players_team on players
DROP INDEX fk_players_team ON players;

-- 4. drop index uq_teams_code on teams
DROP INDEX uq_teams_code ON teams;
