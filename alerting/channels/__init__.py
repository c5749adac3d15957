"""Duty channels, one small module each behind `alerting.channels.base.Channel`."""
