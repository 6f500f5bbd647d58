-- API tokens issued by the API: opaque, stored as SHA-256, bound to tenant ids, revocable at once.
CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"token_sha256" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_tokens_role_check" CHECK ("api_tokens"."role" in ('platform-admin', 'tenant-admin', 'tenant-viewer')),
	CONSTRAINT "api_tokens_tenant_check" CHECK (("api_tokens"."role" = 'platform-admin') = ("api_tokens"."tenant_id" is null)),
	CONSTRAINT "api_tokens_sha256_check" CHECK ("api_tokens"."token_sha256" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_sha256_uq" ON "api_tokens" USING btree ("token_sha256");--> statement-breakpoint
CREATE INDEX "api_tokens_tenant_idx" ON "api_tokens" USING btree ("tenant_id");--> statement-breakpoint
CREATE POLICY "api_tokens_tenant_isolation" ON "api_tokens" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "api_tokens_platform_all" ON "api_tokens" AS PERMISSIVE FOR ALL TO "metalfleet_platform" USING (true) WITH CHECK (true);--> statement-breakpoint
ALTER TABLE "api_tokens" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- Tokens are looked up and issued in the platform scope (the API decides who may issue which).
GRANT SELECT, INSERT, UPDATE ("last_used_at", "revoked_at") ON "api_tokens" TO metalfleet_platform;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ("last_used_at", "revoked_at") ON "api_tokens" TO metalfleet_app;
--> statement-breakpoint
-- Every instance caches verified tokens; a revocation, or the tenant's deletion (the rows go with
-- it), is announced so that each instance forgets the token at once.
CREATE OR REPLACE FUNCTION metalfleet_notify_token() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('metalfleet_tokens', COALESCE(NEW.id, OLD.id)::text);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER api_tokens_revoked AFTER UPDATE OF revoked_at ON api_tokens FOR EACH ROW EXECUTE FUNCTION metalfleet_notify_token();
--> statement-breakpoint
CREATE TRIGGER api_tokens_deleted AFTER DELETE ON api_tokens FOR EACH ROW EXECUTE FUNCTION metalfleet_notify_token();
