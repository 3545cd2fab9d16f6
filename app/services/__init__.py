"""Domain logic: pure rule modules and the use-cases that tie them to storage."""
