"""A mock of the WeChat API for the demo and the tests: the fake platform at the edge."""
