-- API instances cache agent records (keys, revocation) for the poll path. A revocation, a key
-- rotation or a deletion is announced so that every instance forgets that agent at once.
CREATE OR REPLACE FUNCTION metalfleet_notify_agent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('metalfleet_agents', COALESCE(NEW.id, OLD.id)::text);
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS agents_changed ON agents;
--> statement-breakpoint
CREATE TRIGGER agents_changed AFTER UPDATE OF revoked_at, public_jwk, kid, previous_public_jwk, previous_kid, previous_key_valid_until ON agents
  FOR EACH ROW EXECUTE FUNCTION metalfleet_notify_agent();
--> statement-breakpoint
DROP TRIGGER IF EXISTS agents_deleted ON agents;
--> statement-breakpoint
CREATE TRIGGER agents_deleted AFTER DELETE ON agents FOR EACH ROW EXECUTE FUNCTION metalfleet_notify_agent();
