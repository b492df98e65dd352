-- stepwise:up
CREATE TABLE feature_flags (
    id serial PRIMARY KEY,
    key varchar(100) NOT NULL,
    description text,
    enabled boolean NOT NULL DEFAULT false,
    rollout_percentage smallint NOT NULL DEFAULT 0 CHECK (rollout_percentage BETWEEN 0 AND 100),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX index_feature_flags_on_key ON feature_flags (key);

CREATE TABLE feature_flag_overrides (
    feature_flag_id integer NOT NULL REFERENCES feature_flags (id) ON DELETE CASCADE,
    account_id integer NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    enabled boolean NOT NULL,
    PRIMARY KEY (feature_flag_id, account_id)
);

-- stepwise:down
DROP TABLE feature_flag_overrides;
DROP TABLE feature_flags;
