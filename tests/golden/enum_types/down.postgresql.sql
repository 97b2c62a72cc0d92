-- schemasync plan sha256:d4c29e56a56206cdc6b51855d52aa4058b98fd8de3795ee8f4a39ef92aaccee6 (postgresql)

-- 1. keep the values of people.(mood) by (id) in schemasync_backup_3_people__columns
CREATE TABLE schemasync_backup_3_people__columns AS SELECT id, CAST(mood AS TEXT) AS mood FROM people;
CREATE INDEX schemasync_backup_3_people__columns_key ON schemasync_backup_3_people__columns (id);

-- 2. drop column people.mood (destructive) [data-loss]
ALTER TABLE people DROP COLUMN mood;

-- 3. drop enum type mood
DROP TYPE mood;
