-- schemasync plan sha256:5e9a8941ae61db36092bacd385a12adf55d8632ea3487b191f283466d0d28230 (sqlite)

-- 1. rebuild table players (copy rows) to: add foreign key fk_players_team players(team_id) -> teams(id); add check ck_players_number on players: number BETWEEN 0 AND 99 [data-dependent, table-rewrite, long-lock]
CREATE TABLE _schemasync_new_players (
	id INTEGER NOT NULL, 
	team_id INTEGER, 
	number INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT ck_players_number CHECK (number BETWEEN 0 AND 99), 
	CONSTRAINT fk_players_team FOREIGN KEY(team_id) REFERENCES teams (id) ON DELETE SET NULL
);
INSERT INTO _schemasync_new_players (id, team_id, number) SELECT id, team_id, number FROM players;
DROP TABLE players;
ALTER TABLE _schemasync_new_players RENAME TO players;

-- 2. rebuild table teams (copy rows) to: add unique constraint uq_teams_code on teams (code) [data-dependent, table-rewrite, long-lock, index-build]
CREATE TABLE _schemasync_new_teams (
	id INTEGER NOT NULL, 
	code VARCHAR(8), 
	PRIMARY KEY (id), 
	CONSTRAINT uq_teams_code UNIQUE (code)
);
INSERT INTO _schemasync_new_teams (id, code) SELECT id, code FROM teams;
DROP TABLE teams;
ALTER TABLE _schemasync_new_teams RENAME TO teams;
