-- The integration registry: one row per integration, and its last connection check.

-- Deployment-wide: every write to any row takes the next value, so a process that has seen
-- version V reloads exactly the rows with a version above V (writers serialise on an
-- advisory lock so versions become visible in order; see registry/store.py).
CREATE SEQUENCE integration_version AS bigint;

CREATE TABLE integrations (
    id text PRIMARY KEY,
    -- msgspec JSON of schemas.settings.Integration, with the two *_token_env fields null;
    -- null once removed.
    settings jsonb,
    -- Fernet ciphertexts (registry/crypto.py); null once removed.
    simployer_token text,
    payroll_token text,
    version bigint NOT NULL DEFAULT nextval('integration_version'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- The tombstone: set when removed, so `changes(since)` reports the removal.
    removed_at timestamptz,
    CONSTRAINT live_has_settings CHECK ((removed_at IS NULL) = (settings IS NOT NULL)),
    CONSTRAINT removed_keeps_no_tokens CHECK (
        removed_at IS NULL OR (simployer_token IS NULL AND payroll_token IS NULL)
    )
);

CREATE INDEX integrations_version ON integrations (version);

CREATE TABLE connection_checks (
    integration_id text PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
    checked_at timestamptz NOT NULL,
    simployer_ok boolean NOT NULL,
    simployer_reason text NOT NULL DEFAULT '',
    payroll_ok boolean NOT NULL,
    payroll_reason text NOT NULL DEFAULT ''
);
