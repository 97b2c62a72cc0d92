-- schemasync plan sha256:3646c3882d99082fab674947b84c202ffe9351bb8626c4718c7db9302b560d6e (postgresql)

-- 1. drop foreign key fk_players_team on players(team_id)
ALTER TABLE players DROP CONSTRAINT fk_players_team;

-- 2. drop check ck_players_number on players
ALTER TABLE players DROP CONSTRAINT ck_players_number;

-- 3. drop unique constraint uq_teams_code on teams
ALTER TABLE teams DROP CONSTRAINT uq_teams_code;
