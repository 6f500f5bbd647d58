-- The status report function in PL/pgSQL instead of SQL. PostgreSQL plans a LANGUAGE sql
-- function's body anew on every call (its plans live only as long as the calling query), and a
-- report is one call per message: planning was most of PostgreSQL's time per report. PL/pgSQL
-- keeps each statement's plan for the life of the connection. Also: session rows whose values did
-- not change are left alone (ON CONFLICT DO UPDATE locks a conflicting row, and so writes it, even
-- when its WHERE is false), so only the changed ones are locked and written.
CREATE OR REPLACE FUNCTION metalfleet_record_status(
  p_cluster uuid, p_agent uuid, p_applied integer, p_error text, p_version text, p_capabilities jsonb, p_sessions jsonb)
RETURNS TABLE (old_capabilities jsonb, writes bigint)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
#variable_conflict use_column
DECLARE
  v_tenant uuid;
  v_caps jsonb;
  v_written bigint;
  v_vanished bigint;
BEGIN
  SELECT c.tenant_id, c.capabilities INTO v_tenant, v_caps FROM clusters c WHERE c.id = p_cluster;
  IF NOT FOUND THEN RETURN; END IF;
  UPDATE clusters SET applied_revision = p_applied, last_apply_error = p_error, last_seen_at = now(), updated_at = now(),
    capabilities = coalesce(p_capabilities, capabilities)
  WHERE id = p_cluster;
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
  RETURN NEXT;
END
$$;
