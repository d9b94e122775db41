drop table rate_limit_claims;
drop table rate_limits;
