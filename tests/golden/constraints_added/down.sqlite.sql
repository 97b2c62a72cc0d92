-- schemasync plan sha256:30c1091465f827cb3b97f6bdc2ed933d4c2a4bcfa802d3a10d3248011c967c7e (sqlite)

-- 1. rebuild table players (copy rows) to: drop foreign key fk_players_team on players(team_id); drop check ck_players_number on players [table-rewrite, long-lock]
CREATE TABLE _schemasync_new_players (
	id INTEGER NOT NULL, 
	team_id INTEGER, 
	number INTEGER, 
	PRIMARY KEY (id)
);
INSERT INTO _schemasync_new_players (id, team_id, number) SELECT id, team_id, number FROM players;
DROP TABLE players;
ALTER TABLE _schemasync_new_players RENAME TO players;

-- 2. rebuild table teams (copy rows) to: drop unique constraint uq_teams_code on teams [table-rewrite, long-lock]
CREATE TABLE _schemasync_new_teams (
	id INTEGER NOT NULL, 
	code VARCHAR(8), 
	PRIMARY KEY (id)
);
INSERT INTO _schemasync_new_teams (id, code) SELECT id, code FROM teams;
DROP TABLE teams;
ALTER TABLE _schemasync_new_teams RENAME TO teams;
