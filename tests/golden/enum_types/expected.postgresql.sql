-- schemasync plan sha256:b441dbe7a9f0bd872b53f727249691cabdddf5416696c2d7a4ccba6ac87c3731 (postgresql)

-- 1. create enum type mood (happy, sad)
CREATE TYPE mood AS ENUM ('happy', 'sad');

-- 2. add column people.mood mood NOT NULL
ALTER TABLE people ADD COLUMN mood mood DEFAULT 'happy'::mood NOT NULL;
