"""The catalog: what Moneta sells (products) and at what price (revenue models), from YAML."""
