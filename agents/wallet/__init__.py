"""The AI-token wallet: prepaid token grants, atomic deductions, refunds and operator grants."""
