"""Superset settings for deploy/compose: secrets and the metadata database come from the environment."""
import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = os.environ["SUPERSET_DATABASE_URI"]
# Dashboards query Trino's `lake` catalog; results may be large, so keep async off and rows bounded.
SQL_MAX_ROW = 100000
FEATURE_FLAGS = {"DASHBOARD_RBAC": True}
