"""Features the local cloud adds to moto's models (pipeline_runs: the read side of the release loop)."""
