-- Runs once, on the first start with an empty data volume, as POSTGRES_USER in the database
-- iceberg_catalog (POSTGRES_DB). Mirrors the local stack (deploy/local/src/services/postgres.ts):
-- a test checks that the Iceberg JDBC catalog tables below match it.

-- Apicurio Registry's storage, and Superset's metadata (profile superset).
CREATE DATABASE registry;
CREATE DATABASE superset;

-- Trino's Iceberg JDBC catalog expects its two tables to exist (the V1 layout, which also holds views).
CREATE TABLE IF NOT EXISTS iceberg_tables (
  catalog_name VARCHAR(255) NOT NULL,
  table_namespace VARCHAR(255) NOT NULL,
  table_name VARCHAR(255) NOT NULL,
  metadata_location VARCHAR(1000),
  previous_metadata_location VARCHAR(1000),
  iceberg_type VARCHAR(5),
  PRIMARY KEY (catalog_name, table_namespace, table_name)
);
CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
  catalog_name VARCHAR(255) NOT NULL,
  namespace VARCHAR(255) NOT NULL,
  property_key VARCHAR(255) NOT NULL,
  property_value VARCHAR(1000),
  PRIMARY KEY (catalog_name, namespace, property_key)
);
