-- schemasync plan sha256:c2c0fc07194e82468a380c52d950001cbc8880863fc8565cafd5d954434741bf (mysql)

-- 1. add check ck_players_number on players: `number` between 0 and 99 [data-dependent, table-rewrite, long-lock]
ALTER TABLE players ADD CONSTRAINT ck_players_number CHECK (`number` between 0 and 99);

-- 2. create unique index uq_teams_code on teams (code) [data-dependent, index-build]
CREATE UNIQUE INDEX uq_teams_code ON teams (code);

-- 3. add foreign key fk_players_team players(team_id) -> teams(id) [data-dependent, table-rewrite, long-lock]
ALTER TABLE players ADD CONSTRAINT fk_players_team FOREIGN KEY(team_id) REFERENCES teams (id) ON DELETE SET NULL;
