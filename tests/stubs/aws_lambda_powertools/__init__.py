"""Stand-ins for the parts of AWS Lambda Powertools the behaviour tests use."""
