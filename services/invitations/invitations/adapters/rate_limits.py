"""How many invitation e-mails a manager and a practice may send: the platform's fixed
windows (`servicekit.rate_limits`), one allowance per manager and one per practice."""

from servicekit.rate_limits import (
    Allowance,
    Exceeded,
    InProcessRateLimiter,
    RateLimiter,
    RedisRateLimiter,
)

__all__ = ["Allowance", "Exceeded", "InProcessRateLimiter", "RateLimiter", "RedisRateLimiter"]
