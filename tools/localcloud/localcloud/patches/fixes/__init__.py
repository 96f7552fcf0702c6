"""Fixes of moto: where it answers otherwise than AWS, or lacks an operation the lab calls (one module a service)."""
