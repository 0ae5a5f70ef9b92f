-- The inventory: vendors, systems and the data flows between them.
-- Lists are JSON arrays in TEXT columns; ids and category keys use the "C"
-- collation so that their order and prefix ranges are byte order, as in Go.

CREATE TABLE inventory_state (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO inventory_state (id, version) VALUES (1, 0);

CREATE TABLE vendors (
    id           TEXT COLLATE "C" PRIMARY KEY,
    name         TEXT NOT NULL,
    legal_entity TEXT NOT NULL DEFAULT '',
    website      TEXT NOT NULL DEFAULT '',
    domains      TEXT NOT NULL DEFAULT '[]',
    category     TEXT NOT NULL,
    owner        TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    criticality  TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    tags         TEXT NOT NULL DEFAULT '[]',
    catalog      TEXT NOT NULL DEFAULT '',
    revision     BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX vendors_status ON vendors (status);
CREATE INDEX vendors_category ON vendors (category);

CREATE TABLE vendor_subprocessors (
    vendor_id       TEXT COLLATE "C" NOT NULL REFERENCES vendors (id) ON DELETE CASCADE,
    subprocessor_id TEXT COLLATE "C" NOT NULL REFERENCES vendors (id),
    PRIMARY KEY (vendor_id, subprocessor_id)
);
CREATE INDEX vendor_subprocessors_sub ON vendor_subprocessors (subprocessor_id);

CREATE TABLE systems (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    owner       TEXT NOT NULL DEFAULT '',
    environment TEXT NOT NULL,
    repository  TEXT NOT NULL DEFAULT '',
    tags        TEXT NOT NULL DEFAULT '[]',
    revision    BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE flows (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    system_id          TEXT COLLATE "C" NOT NULL REFERENCES systems (id),
    vendor_id          TEXT COLLATE "C" NOT NULL REFERENCES vendors (id),
    categories         TEXT NOT NULL,
    subjects           TEXT NOT NULL DEFAULT '[]',
    purpose            TEXT NOT NULL,
    legal_basis        TEXT NOT NULL DEFAULT '',
    estimated_subjects BIGINT NOT NULL DEFAULT 0,
    source             TEXT NOT NULL,
    evidence           TEXT NOT NULL DEFAULT '[]',
    first_seen         TIMESTAMPTZ,
    last_seen          TIMESTAMPTZ,
    description        TEXT NOT NULL DEFAULT '',
    revision           BIGINT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX flows_vendor ON flows (vendor_id);
CREATE INDEX flows_system ON flows (system_id);

-- One row per (flow, category): the index behind "who has this data?".
-- It is derived from flows.categories and written by the store in the same
-- transaction as the flow, so it carries no foreign keys (a bulk load would
-- pay a trigger per row) and repeats the flow's system and vendor, so that
-- the covering index answers a category query without reading flows.
CREATE TABLE flow_categories (
    flow_id   TEXT COLLATE "C" NOT NULL,
    category  TEXT COLLATE "C" NOT NULL,
    system_id TEXT COLLATE "C" NOT NULL,
    vendor_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (flow_id, category)
);
CREATE INDEX flow_categories_category ON flow_categories (category, flow_id, system_id, vendor_id);
