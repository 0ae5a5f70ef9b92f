-- Incidents at vendors, their append-only timelines, and where the people
-- in the ledger live (for the blast radius by jurisdiction).

CREATE TABLE incidents (
    id                    TEXT COLLATE "C" PRIMARY KEY,
    vendor_id             TEXT COLLATE "C" NOT NULL,
    title                 TEXT NOT NULL,
    severity              TEXT NOT NULL,
    owner                 TEXT NOT NULL DEFAULT '',
    status                TEXT NOT NULL,
    times                 TEXT NOT NULL DEFAULT '{}',
    categories            TEXT NOT NULL DEFAULT '[]',
    window_from           TIMESTAMPTZ,
    window_to             TIMESTAMPTZ,
    systems               TEXT NOT NULL DEFAULT '[]',
    contract_notice_hours INTEGER NOT NULL DEFAULT 0,
    high_risk             BOOLEAN,
    material              BOOLEAN,
    notes                 TEXT NOT NULL DEFAULT '',
    revision              BIGINT NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX incidents_vendor ON incidents (vendor_id);
CREATE INDEX incidents_status ON incidents (status);

-- The timeline: rows are only ever added. The trigger refuses the rest.
CREATE TABLE incident_events (
    id          TEXT COLLATE "C" PRIMARY KEY,
    incident_id TEXT COLLATE "C" NOT NULL REFERENCES incidents (id),
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    message     TEXT NOT NULL,
    changes     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);
CREATE FUNCTION incident_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the incident timeline is append-only';
END;
$$;
CREATE TRIGGER incident_events_append_only BEFORE UPDATE OR DELETE ON incident_events
    FOR EACH ROW EXECUTE FUNCTION incident_events_append_only();
CREATE TRIGGER incident_events_no_truncate BEFORE TRUNCATE ON incident_events
    FOR EACH STATEMENT EXECUTE FUNCTION incident_events_append_only();

-- Where the people behind ledger subjects live, as the customer says:
-- subject is the ledger's key (a keyed hash unless the gateway keeps plain
-- ids), external_id the customer's own id when it was given.
CREATE TABLE subject_residence (
    subject      TEXT COLLATE "C" PRIMARY KEY,
    external_id  TEXT NOT NULL DEFAULT '',
    jurisdiction TEXT COLLATE "C" NOT NULL
);
