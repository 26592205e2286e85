"""The control API under /_sim: steers the simulated world (no Airflow auth)."""
