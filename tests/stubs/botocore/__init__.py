"""A stand-in for botocore in the behaviour tests."""
