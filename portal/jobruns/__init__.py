"""Job-run pages: status and progress of background jobs."""
