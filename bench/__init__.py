"""Throughput benchmark of Fallkonferenz against a bare Flask page, measured in the same run."""
