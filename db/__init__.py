"""Storage: SQLModel tables, the engine, and every SQL statement the project runs."""
