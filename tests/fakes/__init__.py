"""In-memory fakes of the parties' units of work, for fast service tests."""
