"""What people read: the JSON report, its HTML rendering and the terminal table."""
