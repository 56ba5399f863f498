"""The « Données » page: CAF extract upload and validation, rebuild, bundle versions and restore (editors only)."""
