"""A GitHub stand-in for the demo and the tests: the fake REST API, and seeding it from samples."""
