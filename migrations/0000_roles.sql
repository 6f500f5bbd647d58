-- Roles are cluster-global: create them idempotently so that a second database on the same
-- server migrates too, and tolerate a concurrent migration creating them first.
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['metalfleet_app', 'metalfleet_platform', 'metalfleet_agent'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT', r);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END;
    END IF;
  END LOOP;
END
$$;
--> statement-breakpoint
-- The migrating (owner) role switches into the scopes with SET LOCAL ROLE, so it must be a member.
-- A superuser needs no membership; granting it again is harmless.
DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('GRANT metalfleet_app, metalfleet_platform, metalfleet_agent TO %I', current_user);
  END IF;
END
$$;
