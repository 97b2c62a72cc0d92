-- schemasync plan sha256:dd76e028375e7365733cf91b6551c16e919c283ede673d028db04badbd7c0ed9 (postgresql)

-- 1. keep the values of people.(mood) by (id) in schemasync_backup_3_people__columns
CREATE TABLE schemasync_backup_3_people__columns AS SELECT id, CAST(mood AS TEXT) AS mood FROM people;

-- 2. drop column people.mood (destructive) [data-loss]
ALTER TABLE people DROP COLUMN mood;

-- 3. drop enum type mood
DROP TYPE mood;
