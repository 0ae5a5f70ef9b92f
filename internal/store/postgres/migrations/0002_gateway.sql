-- The gateway's state: vendor blocks (the kill switch) and the ledger of
-- what each vendor actually received.

-- A block is not part of inventory-as-code: apply never touches it, so a
-- routine apply cannot unblock a vendor during an incident.
CREATE TABLE vendor_blocks (
    vendor_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES vendors (id) ON DELETE CASCADE,
    reason     TEXT NOT NULL DEFAULT '',
    blocked_by TEXT NOT NULL DEFAULT '',
    blocked_at TIMESTAMPTZ NOT NULL
);

-- One row per vendor, subject and data category the vendor received.
-- subject is the customer's own id for the person as the gateway found it in
-- the payload, as a keyed hash unless configured otherwise.
CREATE TABLE ledger (
    vendor_id  TEXT COLLATE "C" NOT NULL,
    subject    TEXT COLLATE "C" NOT NULL,
    category   TEXT COLLATE "C" NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen  TIMESTAMPTZ NOT NULL,
    messages   BIGINT NOT NULL,
    PRIMARY KEY (vendor_id, subject, category)
);
CREATE INDEX ledger_category ON ledger (vendor_id, category, last_seen);
CREATE INDEX ledger_last_seen ON ledger (vendor_id, last_seen);

-- What the gateway did to fields, per vendor, action and category.
CREATE TABLE ledger_actions (
    vendor_id TEXT COLLATE "C" NOT NULL,
    action    TEXT COLLATE "C" NOT NULL,
    category  TEXT COLLATE "C" NOT NULL,
    count     BIGINT NOT NULL,
    PRIMARY KEY (vendor_id, action, category)
);
