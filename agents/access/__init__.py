"""The access-policy engine: rules from YAML compiled to predicates, priced access, telemetry."""
