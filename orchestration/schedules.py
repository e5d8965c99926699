"""Schedules: a daily full run catches anything the sensor did not."""

import dagster as dg

from orchestration.jobs import newsroom_all

daily_refresh = dg.ScheduleDefinition(
    name="daily_refresh",
    job=newsroom_all,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    description="Every day at 06:00 UTC: load whatever landed and rebuild every layer.",
)
