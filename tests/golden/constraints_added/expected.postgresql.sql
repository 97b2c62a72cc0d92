-- schemasync plan sha256:107c49b4bed9fa77c401faae96391bcdc7317c860759968f06bcab575d63de7e (postgresql)

-- 1. add check ck_players_number on players: number >= 0 AND number <= 99 [data-dependent, long-lock]
ALTER TABLE players ADD CONSTRAINT ck_players_number CHECK (number >= 0 AND number <= 99);

-- 2. add unique constraint uq_teams_code on teams (code) [data-dependent, long-lock, index-build]
ALTER TABLE teams ADD CONSTRAINT uq_teams_code UNIQUE (code);

-- 3. add foreign key fk_players_team players(team_id) -> teams(id) [data-dependent, long-lock]
ALTER TABLE players ADD CONSTRAINT fk_players_team FOREIGN KEY(team_id) REFERENCES teams (id) ON DELETE SET NULL;
