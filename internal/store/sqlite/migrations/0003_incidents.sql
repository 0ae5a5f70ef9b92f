-- Incidents at vendors, their append-only timelines, and where the people
-- in the ledger live (for the blast radius by jurisdiction).

CREATE TABLE incidents (
    id                    TEXT PRIMARY KEY,
    vendor_id             TEXT NOT NULL,
    title                 TEXT NOT NULL,
    severity              TEXT NOT NULL,
    owner                 TEXT NOT NULL DEFAULT '',
    status                TEXT NOT NULL,
    times                 TEXT NOT NULL DEFAULT '{}',
    categories            TEXT NOT NULL DEFAULT '[]',
    window_from           TEXT,
    window_to             TEXT,
    systems               TEXT NOT NULL DEFAULT '[]',
    contract_notice_hours INTEGER NOT NULL DEFAULT 0,
    high_risk             INTEGER,
    material              INTEGER,
    notes                 TEXT NOT NULL DEFAULT '',
    revision              INTEGER NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE INDEX incidents_vendor ON incidents (vendor_id);
CREATE INDEX incidents_status ON incidents (status);

-- The timeline: rows are only ever added. The triggers refuse the rest.
CREATE TABLE incident_events (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    message     TEXT NOT NULL,
    changes     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);
CREATE TRIGGER incident_events_no_update BEFORE UPDATE ON incident_events
BEGIN
    SELECT RAISE(ABORT, 'the incident timeline is append-only');
END;
CREATE TRIGGER incident_events_no_delete BEFORE DELETE ON incident_events
BEGIN
    SELECT RAISE(ABORT, 'the incident timeline is append-only');
END;

-- Where the people behind ledger subjects live, as the customer says:
-- subject is the ledger's key (a keyed hash unless the gateway keeps plain
-- ids), external_id the customer's own id when it was given.
CREATE TABLE subject_residence (
    subject      TEXT PRIMARY KEY,
    external_id  TEXT NOT NULL DEFAULT '',
    jurisdiction TEXT NOT NULL
);
