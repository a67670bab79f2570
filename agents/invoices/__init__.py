"""Invoices: the estimate of the next invoice, from the subscription, usage and coupons."""
