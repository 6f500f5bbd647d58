-- What drizzle-kit cannot emit: FORCE RLS, the fleet-wide exclusion constraints and the grants
-- that define each scope.

-- FORCE: the table owner (the migrating role) is bound by the policies too. Only superusers
-- and BYPASSRLS roles skip them, which is why every scope runs SET LOCAL ROLE.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenants', 'address_grants', 'tenant_policies', 'clusters', 'pools',
    'pool_cidrs', 'bfd_profiles', 'peers', 'communities', 'advertisements', 'advertisement_pools',
    'advertisement_peers', 'enrollment_tokens', 'agents', 'config_revisions', 'session_states',
    'audit_events'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
  END LOOP;
END
$$;
--> statement-breakpoint
-- Fleet-wide address truth: no two pool CIDRs overlap, whoever owns them (IPv4 and IPv6 alike;
-- the two families never overlap each other). The check ignores RLS by design.
ALTER TABLE "pool_cidrs" ADD CONSTRAINT "pool_cidrs_no_overlap" EXCLUDE USING gist ("cidr" inet_ops WITH &&);
--> statement-breakpoint
-- A block of addresses is granted to at most one tenant.
ALTER TABLE "address_grants" ADD CONSTRAINT "address_grants_no_overlap" EXCLUDE USING gist ("cidr" inet_ops WITH &&);
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO metalfleet_app, metalfleet_platform, metalfleet_agent;
--> statement-breakpoint
-- Tenant scope: full CRUD on its own intent, read-only on its tenant row, append-only audit.
GRANT SELECT, INSERT, UPDATE, DELETE ON "address_grants", "tenant_policies", "clusters", "pools",
  "pool_cidrs", "bfd_profiles", "peers", "communities", "advertisements", "advertisement_pools",
  "advertisement_peers", "enrollment_tokens", "agents", "config_revisions", "session_states"
  TO metalfleet_app;
--> statement-breakpoint
GRANT SELECT ON "tenants" TO metalfleet_app;
--> statement-breakpoint
GRANT SELECT, INSERT ON "audit_events" TO metalfleet_app;
--> statement-breakpoint
-- Platform scope: reads everything, manages the tenant list, writes platform audit events.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO metalfleet_platform;
--> statement-breakpoint
GRANT INSERT, UPDATE, DELETE ON "tenants" TO metalfleet_platform;
--> statement-breakpoint
GRANT INSERT ON "audit_events" TO metalfleet_platform;
--> statement-breakpoint
-- Agent scope: its own cluster's desired config in, applied state and session health out.
GRANT SELECT ON "tenants", "clusters", "config_revisions", "agents", "session_states" TO metalfleet_agent;
--> statement-breakpoint
GRANT UPDATE ("applied_revision", "capabilities", "last_seen_at", "last_apply_error", "updated_at") ON "clusters" TO metalfleet_agent;
--> statement-breakpoint
GRANT UPDATE ("public_jwk", "kid", "previous_public_jwk", "previous_kid", "previous_key_valid_until", "agent_version", "last_seen_at", "updated_at") ON "agents" TO metalfleet_agent;
--> statement-breakpoint
GRANT INSERT, UPDATE, DELETE ON "session_states" TO metalfleet_agent;
