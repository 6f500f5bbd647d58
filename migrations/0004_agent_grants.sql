-- The agent scope's share of enrollment: read and consume the one token it presents (the
-- policies in 0003 limit it to that token), and register itself for the token's cluster.
GRANT SELECT, UPDATE ("used_at") ON "enrollment_tokens" TO metalfleet_agent;
--> statement-breakpoint
GRANT INSERT ON "agents" TO metalfleet_agent;
