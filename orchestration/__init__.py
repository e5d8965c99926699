"""Dagster orchestration for newsroom: Definitions, resources, jobs, schedules, sensors, checks."""
