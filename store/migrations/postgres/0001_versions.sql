-- wangge's store on PostGIS: datasets, grid layers (drafts), published versions, staff.
-- Geometry is WGS-84 (SRID 4326), GiST-indexed; each grid's exact GeoJSON is kept beside its
-- geometry so a layer reads back to the bit (PostGIS would round-trip through its own text).
-- The postgis extension itself is created by the store before migrating (it needs the public
-- schema and may already exist).

CREATE TABLE datasets (
    id          BIGSERIAL PRIMARY KEY,
    created_at  BIGINT NOT NULL,           -- Unix milliseconds
    source      TEXT NOT NULL,             -- where it was loaded from (a folder, an upload)
    files       TEXT NOT NULL              -- JSON object: file name -> the file's text
);

CREATE TABLE communities (
    dataset_id  BIGINT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    geom        geometry(MultiPolygon, 4326) NOT NULL,
    PRIMARY KEY (dataset_id, code)
);
CREATE INDEX communities_geom ON communities USING GIST (geom);

CREATE TABLE buildings (
    dataset_id      BIGINT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    community_code  TEXT NOT NULL,
    address         TEXT,
    compound        TEXT,
    population      BIGINT NOT NULL,
    households      BIGINT NOT NULL,
    geom            geometry(MultiPolygon, 4326) NOT NULL,
    PRIMARY KEY (dataset_id, id)
);
CREATE INDEX buildings_geom ON buildings USING GIST (geom);

CREATE TABLE resources (
    dataset_id  BIGINT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    geom        geometry(Point, 4326) NOT NULL,
    PRIMARY KEY (dataset_id, id)
);
CREATE INDEX resources_geom ON resources USING GIST (geom);

-- A layer is a set of grids drawn from one dataset: a draft until a version points at it.
CREATE TABLE layers (
    id           BIGSERIAL PRIMARY KEY,
    dataset_id   BIGINT NOT NULL REFERENCES datasets(id),
    created_at   BIGINT NOT NULL,
    origin       TEXT NOT NULL,            -- partition, repartition, move, ...
    meta         TEXT NOT NULL,            -- the layer's `wangge` member (scheme, bounds, code book)
    report       TEXT,                     -- the planner's report, JSON
    staff_moves  TEXT NOT NULL DEFAULT '[]' -- staff of retired grids -> successor grid, applied on publish
);

CREATE TABLE grids (
    layer_id        BIGINT NOT NULL REFERENCES layers(id) ON DELETE CASCADE,
    position        BIGINT NOT NULL,       -- order in the layer
    code            TEXT NOT NULL,
    community_code  TEXT NOT NULL,
    kind            TEXT NOT NULL,
    level           TEXT NOT NULL,
    parent_code     TEXT,
    population      BIGINT NOT NULL,
    households      BIGINT NOT NULL,
    feature         TEXT NOT NULL,         -- the exact GeoJSON feature
    geom            geometry(MultiPolygon, 4326) NOT NULL,
    PRIMARY KEY (layer_id, code),
    UNIQUE (layer_id, position)
);
CREATE INDEX grids_geom ON grids USING GIST (geom);

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
    position  BIGINT NOT NULL,
    name      TEXT NOT NULL,
    role      TEXT NOT NULL,
    phone     TEXT,
    PRIMARY KEY (grid, position)
);
