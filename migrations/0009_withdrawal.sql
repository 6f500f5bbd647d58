-- Addresses are never announced by two owners at once, and writes of a tenant take turns:
-- address holds (what each cluster's agent may still announce), withdrawing clusters and deleting
-- tenants, rollback pins, and each revision's prefixes and sealed intent (docs/architecture.md).
CREATE TABLE "address_holds" (
	"tenant_id" uuid NOT NULL,
	"cluster_id" uuid NOT NULL,
	"cidr" "cidr" NOT NULL,
	"last_revision" integer NOT NULL,
	"tenant_slug" text NOT NULL,
	"cluster_name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "address_holds_cluster_id_cidr_pk" PRIMARY KEY("cluster_id","cidr")
);
--> statement-breakpoint
ALTER TABLE "address_holds" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "clusters" ADD COLUMN "withdrawing_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "clusters" ADD COLUMN "pinned_revision" integer;--> statement-breakpoint
ALTER TABLE "config_revisions" ADD COLUMN "prefixes" "cidr"[] DEFAULT '{}'::cidr[] NOT NULL;--> statement-breakpoint
ALTER TABLE "config_revisions" ADD COLUMN "intent" text;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "deleting_since" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "address_holds_tenant_idx" ON "address_holds" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "address_holds_cidr_gist" ON "address_holds" USING gist ("cidr" inet_ops);--> statement-breakpoint
CREATE POLICY "address_grants_platform_insert" ON "address_grants" AS PERMISSIVE FOR INSERT TO "metalfleet_platform" WITH CHECK (true);--> statement-breakpoint
CREATE POLICY "address_grants_platform_delete" ON "address_grants" AS PERMISSIVE FOR DELETE TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "address_holds_tenant_isolation" ON "address_holds" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "address_holds_platform_read" ON "address_holds" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "address_holds_agent_cluster" ON "address_holds" AS PERMISSIVE FOR ALL TO "metalfleet_agent" USING (cluster_id = nullif(current_setting('metalfleet.cluster_id', true), '')::uuid) WITH CHECK (cluster_id = nullif(current_setting('metalfleet.cluster_id', true), '')::uuid);--> statement-breakpoint
ALTER POLICY "audit_events_platform_insert" ON "audit_events" TO metalfleet_platform WITH CHECK (true);--> statement-breakpoint
-- What drizzle-kit cannot emit: FORCE RLS and the grants of each scope on the new table and
-- columns (see 0002_isolation.sql for the scopes).
ALTER TABLE "address_holds" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "address_holds" TO metalfleet_app, metalfleet_agent;
--> statement-breakpoint
GRANT SELECT ON "address_holds" TO metalfleet_platform;
--> statement-breakpoint
-- Grants are given and withdrawn in the platform scope: only it sees every tenant's held space.
GRANT INSERT, DELETE ON "address_grants" TO metalfleet_platform;
--> statement-breakpoint
-- A forced tenant deletion marks the tenant in its own scope, in the transaction that withdraws it.
GRANT UPDATE ("deleting_since", "updated_at") ON "tenants" TO metalfleet_app;
--> statement-breakpoint
-- The status report now also releases address holds: once an agent reports a newer applied
-- revision, the CIDRs only older revisions carried are no longer announced by its cluster. Only
-- a revision the cluster has been given counts (a report of one beyond the desired revision
-- releases nothing). Returns how many holds went, so the caller can finish a withdrawal.
DROP FUNCTION IF EXISTS metalfleet_record_status(uuid, uuid, integer, text, text, jsonb, jsonb);
--> statement-breakpoint
CREATE FUNCTION metalfleet_record_status(
  p_cluster uuid, p_agent uuid, p_applied integer, p_error text, p_version text, p_capabilities jsonb, p_sessions jsonb)
RETURNS TABLE (old_capabilities jsonb, writes bigint, released bigint)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
#variable_conflict use_column
DECLARE
  v_tenant uuid;
  v_caps jsonb;
  v_applied integer;
  v_desired integer;
  v_written bigint;
  v_vanished bigint;
  v_released bigint := 0;
BEGIN
  SELECT c.tenant_id, c.capabilities, c.applied_revision, c.desired_revision INTO v_tenant, v_caps, v_applied, v_desired
  FROM clusters c WHERE c.id = p_cluster;
  IF NOT FOUND THEN RETURN; END IF;
  UPDATE clusters SET applied_revision = p_applied, last_apply_error = p_error, last_seen_at = now(), updated_at = now(),
    capabilities = coalesce(p_capabilities, capabilities)
  WHERE id = p_cluster;
  IF p_applied IS NOT NULL AND p_applied IS DISTINCT FROM v_applied AND p_applied <= v_desired THEN
    DELETE FROM address_holds h WHERE h.cluster_id = p_cluster AND h.last_revision < p_applied;
    GET DIAGNOSTICS v_released = ROW_COUNT;
  END IF;
  UPDATE agents SET last_seen_at = now(), agent_version = coalesce(p_version, agent_version)
  WHERE id = p_agent AND (last_seen_at IS NULL OR last_seen_at < now() - interval '1 minute' OR agent_version IS DISTINCT FROM coalesce(p_version, agent_version));
  WITH reported AS (
    SELECT DISTINCT ON (node, peer, vrf) * FROM jsonb_to_recordset(p_sessions) AS r(
      node text, peer text, vrf text, bgp_state text, bfd_state text, uptime_seconds bigint, prefixes_received integer, prefixes_sent integer, last_reset_reason text)),
  changed AS (
    SELECT r.* FROM reported r LEFT JOIN session_states s ON s.cluster_id = p_cluster AND s.node = r.node AND s.peer = r.peer AND s.vrf = r.vrf
    WHERE s.cluster_id IS NULL OR s.bgp_state IS DISTINCT FROM r.bgp_state OR s.bfd_state IS DISTINCT FROM r.bfd_state
      OR s.prefixes_received IS DISTINCT FROM r.prefixes_received OR s.prefixes_sent IS DISTINCT FROM r.prefixes_sent
      OR s.last_reset_reason IS DISTINCT FROM r.last_reset_reason OR (s.uptime_seconds IS NULL) <> (r.uptime_seconds IS NULL)
      OR r.uptime_seconds < s.uptime_seconds),
  written AS (
    INSERT INTO session_states (tenant_id, cluster_id, node, peer, vrf, bgp_state, bfd_state, uptime_seconds, prefixes_received, prefixes_sent, last_reset_reason)
    SELECT v_tenant, p_cluster, r.node, r.peer, r.vrf, r.bgp_state, r.bfd_state, r.uptime_seconds, r.prefixes_received, r.prefixes_sent, r.last_reset_reason FROM changed r
    ON CONFLICT (cluster_id, node, peer, vrf) DO UPDATE SET
      bgp_state = excluded.bgp_state, bfd_state = excluded.bfd_state, uptime_seconds = excluded.uptime_seconds,
      prefixes_received = excluded.prefixes_received, prefixes_sent = excluded.prefixes_sent, last_reset_reason = excluded.last_reset_reason, updated_at = now()
    RETURNING 1)
  SELECT count(*) INTO v_written FROM written;
  DELETE FROM session_states s WHERE s.cluster_id = p_cluster
    AND NOT EXISTS (SELECT 1 FROM jsonb_to_recordset(p_sessions) AS r(node text, peer text, vrf text) WHERE r.node = s.node AND r.peer = s.peer AND r.vrf = s.vrf);
  GET DIAGNOSTICS v_vanished = ROW_COUNT;
  old_capabilities := v_caps;
  writes := v_written + v_vanished;
  released := v_released;
  RETURN NEXT;
END
$$;
