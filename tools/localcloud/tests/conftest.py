"""The local cloud's tests: the fixtures come from its pytest plugin (a cloud, a Docker engine, the lab's account)."""
pytest_plugins = ["localcloud.testing"]
