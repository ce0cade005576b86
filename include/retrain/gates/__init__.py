"""Great Expectations gates between stages: suites from config, validation, reports."""
