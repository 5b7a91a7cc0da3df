-- wangge's embedded store (SQLite): the same tables as on PostGIS; geometry as GeoJSON text
-- with bounding-box columns (indexed) for spatial filters, refined exactly in Rust. Each grid's
-- exact GeoJSON is kept so a layer reads back to the bit.

CREATE TABLE datasets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  BIGINT NOT NULL,           -- Unix milliseconds
    source      TEXT NOT NULL,             -- where it was loaded from (a folder, an upload)
    files       TEXT NOT NULL              -- JSON object: file name -> the file's text
);

CREATE TABLE communities (
    dataset_id  BIGINT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    geom        TEXT NOT NULL,                -- GeoJSON geometry
    minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL,
    PRIMARY KEY (dataset_id, code)
);
CREATE INDEX communities_geom ON communities (minx, maxx, miny, maxy);

CREATE TABLE buildings (
    dataset_id      BIGINT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    community_code  TEXT NOT NULL,
    address         TEXT,
    compound        TEXT,
    population      BIGINT NOT NULL,
    households      BIGINT NOT NULL,
    geom            TEXT NOT NULL,                -- GeoJSON geometry
    minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL,
    PRIMARY KEY (dataset_id, id)
);
CREATE INDEX buildings_geom ON buildings (minx, maxx, miny, maxy);

CREATE TABLE resources (
    dataset_id  BIGINT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    geom        TEXT NOT NULL,                -- GeoJSON geometry
    x REAL NOT NULL, y REAL NOT NULL,
    PRIMARY KEY (dataset_id, id)
);
CREATE INDEX resources_geom ON resources (x, y);

-- A layer is a set of grids drawn from one dataset: a draft until a version points at it.
CREATE TABLE layers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id   BIGINT NOT NULL REFERENCES datasets(id),
    created_at   BIGINT NOT NULL,
    origin       TEXT NOT NULL,            -- partition, repartition, move, ...
    meta         TEXT NOT NULL,            -- the layer's `wangge` member (scheme, bounds, code book)
    report       TEXT,                     -- the planner's report, JSON
    staff_moves  TEXT NOT NULL DEFAULT '[]' -- staff of retired grids -> successor grid, applied on publish
);

CREATE TABLE grids (
    layer_id        BIGINT NOT NULL REFERENCES layers(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,      -- order in the layer
    code            TEXT NOT NULL,
    community_code  TEXT NOT NULL,
    kind            TEXT NOT NULL,
    level           TEXT NOT NULL,
    parent_code     TEXT,
    population      BIGINT NOT NULL,
    households      BIGINT NOT NULL,
    feature         TEXT NOT NULL,         -- the exact GeoJSON feature
    geom            TEXT NOT NULL,                -- GeoJSON geometry
    minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL,
    PRIMARY KEY (layer_id, code),
    UNIQUE (layer_id, position)
);
CREATE INDEX grids_geom ON grids (layer_id, minx, maxx, miny, maxy);

CREATE TABLE versions (
    number            BIGINT PRIMARY KEY,
    layer_id          BIGINT NOT NULL REFERENCES layers(id),
    published_at      BIGINT NOT NULL,
    note              TEXT NOT NULL,
    rolled_back_from  BIGINT               -- set when this version re-publishes an older one
);

-- One row: the version readers are served. Publishing inserts a version and moves this pointer
-- in one transaction.
CREATE TABLE current_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    number  BIGINT REFERENCES versions(number),
    -- Bumped by every staff change, so servers know to reload staff.
    staff_revision  BIGINT NOT NULL DEFAULT 0
);
INSERT INTO current_version (id, number, staff_revision) VALUES (1, NULL, 0);

-- Staff stay on grid codes across versions (dataset-format.md, staff.json).
CREATE TABLE staff (
    grid      TEXT NOT NULL,
    position  INTEGER NOT NULL,
    name      TEXT NOT NULL,
    role      TEXT NOT NULL,
    phone     TEXT,
    PRIMARY KEY (grid, position)
);
