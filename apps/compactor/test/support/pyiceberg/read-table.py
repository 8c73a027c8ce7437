"""Reads one table of the lake with PyIceberg and prints it as JSON lines.

The first line describes the table (schemas with field ids, partition spec, snapshots with their
summaries) and the scan (the data files it planned, each with the field ids its Parquet footer
carries); every following line is one row. Long integers and snapshot ids are printed as strings
(they may exceed 2^53), timestamps as ISO 8601 in UTC with microseconds.

The catalog database is opened read only (PostgreSQL rejects any write in the session), and
PyIceberg is told not to create its catalog tables: the reader must never change the catalog.

Connection settings come from the environment, never the command line:
  LAKE_CATALOG_URI      SQLAlchemy URL of the JDBC catalog database (postgresql+psycopg2://user:password@host:port/db)
  LAKE_CATALOG_NAME     catalog_name in iceberg_tables (Trino's iceberg.jdbc-catalog.catalog-name)
  LAKE_WAREHOUSE        s3://bucket/prefix
  LAKE_S3_ENDPOINT, LAKE_S3_REGION, LAKE_S3_ACCESS_KEY, LAKE_S3_SECRET_KEY

Usage: read-table.py NAMESPACE.TABLE [--filter EXPR] [--columns a,b] [--snapshot-id ID]
Exit codes: 0 read, 2 bad usage or settings, 3 no such table.
"""

import argparse
import base64
import datetime
import decimal
import json
import math
import os
import sys
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.table.snapshots import Snapshot

PARQUET_FIELD_ID = b"PARQUET:field_id"
UTC = datetime.timezone.utc


def read_only(uri: str) -> str:
    """Adds libpq's `options=-c default_transaction_read_only=on` to the URL."""
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", "-c default_transaction_read_only=on"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        print(f"read-table.py: {name} is not set", file=sys.stderr)
        sys.exit(2)
    return value


def open_catalog() -> SqlCatalog:
    return SqlCatalog(
        setting("LAKE_CATALOG_NAME"),
        **{
            "uri": read_only(setting("LAKE_CATALOG_URI")),
            "init_catalog_tables": "false",
            "warehouse": setting("LAKE_WAREHOUSE"),
            "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO",
            "s3.endpoint": setting("LAKE_S3_ENDPOINT"),
            "s3.region": setting("LAKE_S3_REGION"),
            "s3.access-key-id": setting("LAKE_S3_ACCESS_KEY"),
            "s3.secret-access-key": setting("LAKE_S3_SECRET_KEY"),
            # Path-style requests (bucket in the path), as self-hosted stores need.
            "s3.force-virtual-addressing": "false",
        },
    )


def schema_json(schema) -> dict:
    return {
        "schema_id": schema.schema_id,
        "fields": [
            {"id": f.field_id, "name": f.name, "type": str(f.field_type), "required": f.required}
            for f in schema.fields
        ],
    }


def snapshot_json(s: Snapshot) -> dict:
    summary = s.summary
    return {
        "snapshot_id": str(s.snapshot_id),
        "parent_snapshot_id": None if s.parent_snapshot_id is None else str(s.parent_snapshot_id),
        "sequence_number": s.sequence_number,
        "timestamp_ms": s.timestamp_ms,
        "schema_id": s.schema_id,
        "operation": None if summary is None else summary.operation.value,
        "summary": {} if summary is None else dict(summary.additional_properties),
    }


def value_json(v):
    """A row value as JSON: exact integers as strings, timestamps in UTC with microseconds."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(UTC).replace(tzinfo=None)
            return v.isoformat(timespec="microseconds") + "Z"
        return v.isoformat(timespec="microseconds")
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, bytes):
        return base64.b64encode(v).decode("ascii")
    if isinstance(v, dict):
        return {k: value_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [value_json(x) for x in v]
    raise TypeError(f"no JSON form for {type(v).__name__}")


def parquet_field_ids(io, path: str) -> dict:
    """Column name to the field id in the data file's own Parquet schema (None when it has none)."""
    with io.new_input(path).open(seekable=True) as stream:
        schema = pq.ParquetFile(stream).schema_arrow
    ids = {}
    for field in schema:
        raw = (field.metadata or {}).get(PARQUET_FIELD_ID)
        ids[field.name] = None if raw is None else int(raw)
    return ids


def main() -> int:
    parser = argparse.ArgumentParser(description="Read an Iceberg table of the lake with PyIceberg.")
    parser.add_argument("table", help="NAMESPACE.TABLE")
    parser.add_argument("--filter", default=None, help="PyIceberg row filter, e.g. \"event_type = 'click'\"")
    parser.add_argument("--columns", default=None, help="comma-separated columns to read (default: all)")
    parser.add_argument("--snapshot-id", default=None, help="read this snapshot instead of the current one")
    args = parser.parse_args()

    catalog = open_catalog()
    try:
        table = catalog.load_table(args.table)
    except NoSuchTableError as err:
        print(f"read-table.py: {err}", file=sys.stderr)
        return 3

    meta = table.metadata
    snapshot_id = int(args.snapshot_id) if args.snapshot_id else None
    columns = tuple(c for c in args.columns.split(",") if c) if args.columns else ("*",)
    scan = table.scan(
        row_filter=args.filter if args.filter else AlwaysTrue(),
        selected_fields=columns,
        snapshot_id=snapshot_id,
    )

    files = []
    for task in scan.plan_files():
        data = task.file
        spec = table.specs()[data.spec_id]
        partition = {pf.name: value_json(data.partition[i]) for i, pf in enumerate(spec.fields)}
        files.append(
            {
                "path": data.file_path,
                "record_count": data.record_count,
                "spec_id": data.spec_id,
                "partition": partition,
                "parquet_field_ids": parquet_field_ids(table.io, data.file_path),
            }
        )
    files.sort(key=lambda f: f["path"])

    rows = scan.to_arrow()
    current = table.current_snapshot()
    header = {
        "format_version": meta.format_version,
        "table_uuid": str(meta.table_uuid),
        "location": meta.location,
        "metadata_location": table.metadata_location,
        "current_schema_id": meta.current_schema_id,
        "schema": schema_json(table.schema()),
        "schemas": [schema_json(s) for s in meta.schemas],
        "partition_spec": {
            "spec_id": table.spec().spec_id,
            "fields": [
                {"source_id": pf.source_id, "field_id": pf.field_id, "name": pf.name, "transform": str(pf.transform)}
                for pf in table.spec().fields
            ],
        },
        "current_snapshot_id": None if current is None else str(current.snapshot_id),
        "snapshots": [snapshot_json(s) for s in meta.snapshots],
        "properties": dict(meta.properties),
        "scan": {
            "snapshot_id": None if snapshot_id is None else str(snapshot_id),
            "filter": args.filter,
            "columns": rows.schema.names,
            "files": files,
            "row_count": rows.num_rows,
        },
    }
    out = sys.stdout
    out.write(json.dumps(header, ensure_ascii=False, allow_nan=False) + "\n")
    for row in rows.to_pylist():
        out.write(json.dumps({k: value_json(v) for k, v in row.items()}, ensure_ascii=False, allow_nan=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
