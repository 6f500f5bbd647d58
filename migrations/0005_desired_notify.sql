-- Agents' polls answer 304 from an in-memory index of each cluster's desired revision. Every
-- change of it is announced (on commit, as NOTIFY is transactional) so that each API instance
-- drops its stale entry at once.
CREATE OR REPLACE FUNCTION metalfleet_notify_desired() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('metalfleet_desired', COALESCE(NEW.id, OLD.id)::text);
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS clusters_desired_changed ON clusters;
--> statement-breakpoint
CREATE TRIGGER clusters_desired_changed AFTER UPDATE OF desired_revision ON clusters
  FOR EACH ROW WHEN (OLD.desired_revision IS DISTINCT FROM NEW.desired_revision) EXECUTE FUNCTION metalfleet_notify_desired();
--> statement-breakpoint
DROP TRIGGER IF EXISTS clusters_deleted ON clusters;
--> statement-breakpoint
CREATE TRIGGER clusters_deleted AFTER DELETE ON clusters FOR EACH ROW EXECUTE FUNCTION metalfleet_notify_desired();
