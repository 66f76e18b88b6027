"""Importing and exporting tables (CSV and XLSX): one importer for web and CLI."""
