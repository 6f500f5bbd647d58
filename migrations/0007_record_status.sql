-- An agent's status report as one function (agents report often): the cluster and agent rows
-- are updated, session rows are written only where something other than a growing uptime
-- changed, sessions no longer reported are removed, and the previous capabilities come back so
-- that the caller can tell whether they changed. SECURITY INVOKER: it runs with the caller's role
-- and row-level security (the agent scope of the cluster), and its plan is cached by Postgres.
CREATE OR REPLACE FUNCTION metalfleet_record_status(
  p_cluster uuid, p_agent uuid, p_applied integer, p_error text, p_version text, p_capabilities jsonb, p_sessions jsonb)
RETURNS TABLE (old_capabilities jsonb, writes bigint)
LANGUAGE sql VOLATILE SECURITY INVOKER AS $$
  with previous as (select tenant_id, capabilities from clusters where id = p_cluster),
  cluster_update as (
    update clusters set applied_revision = p_applied, last_apply_error = p_error, last_seen_at = now(), updated_at = now(),
      capabilities = coalesce(p_capabilities, capabilities)
    where id = p_cluster returning 1),
  -- The agent row keeps when that agent was last heard from to the minute (the cluster row, which
  -- staleness is judged by, to the report): one row write less per report on a busy instance.
  agent_update as (
    update agents set last_seen_at = now(), agent_version = coalesce(p_version, agent_version)
    where id = p_agent and (last_seen_at is null or last_seen_at < now() - interval '1 minute' or agent_version is distinct from coalesce(p_version, agent_version))
    returning 1),
  reported as (
    select distinct on (node, peer, vrf) * from jsonb_to_recordset(p_sessions) as r(
      node text, peer text, vrf text, bgp_state text, bfd_state text, uptime_seconds bigint, prefixes_received integer, prefixes_sent integer, last_reset_reason text)),
  written as (
    insert into session_states (tenant_id, cluster_id, node, peer, vrf, bgp_state, bfd_state, uptime_seconds, prefixes_received, prefixes_sent, last_reset_reason)
    select p.tenant_id, p_cluster, r.node, r.peer, r.vrf, r.bgp_state, r.bfd_state, r.uptime_seconds, r.prefixes_received, r.prefixes_sent, r.last_reset_reason
    from reported r cross join previous p
    on conflict (cluster_id, node, peer, vrf) do update set
      bgp_state = excluded.bgp_state, bfd_state = excluded.bfd_state, uptime_seconds = excluded.uptime_seconds,
      prefixes_received = excluded.prefixes_received, prefixes_sent = excluded.prefixes_sent, last_reset_reason = excluded.last_reset_reason, updated_at = now()
    -- Uptime grows on every report: alone it is no change, unless it went back (a reset).
    where session_states.bgp_state is distinct from excluded.bgp_state or session_states.bfd_state is distinct from excluded.bfd_state
      or session_states.prefixes_received is distinct from excluded.prefixes_received or session_states.prefixes_sent is distinct from excluded.prefixes_sent
      or session_states.last_reset_reason is distinct from excluded.last_reset_reason
      or (session_states.uptime_seconds is null) <> (excluded.uptime_seconds is null)
      or excluded.uptime_seconds < session_states.uptime_seconds
    returning 1),
  vanished as (
    delete from session_states s where s.cluster_id = p_cluster
      and not exists (select 1 from reported r where r.node = s.node and r.peer = s.peer and r.vrf = s.vrf)
    returning 1)
  select p.capabilities,
    (select count(*) from written) + (select count(*) from vanished) + 0 * ((select count(*) from cluster_update) + (select count(*) from agent_update))
  from previous p
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION metalfleet_record_status(uuid, uuid, integer, text, text, jsonb, jsonb) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION metalfleet_record_status(uuid, uuid, integer, text, text, jsonb, jsonb) TO metalfleet_agent;
