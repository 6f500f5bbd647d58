CREATE TABLE "console_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"session_sha256" text NOT NULL,
	"tenant_id" uuid,
	"token_id" uuid,
	"credential" text NOT NULL,
	"subject" text NOT NULL,
	"role" text NOT NULL,
	"link" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "console_sessions_role_check" CHECK ("console_sessions"."role" in ('platform-admin', 'tenant-admin', 'tenant-viewer')),
	CONSTRAINT "console_sessions_sha256_check" CHECK ("console_sessions"."session_sha256" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
ALTER TABLE "console_sessions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "console_sessions" ADD CONSTRAINT "console_sessions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "console_sessions" ADD CONSTRAINT "console_sessions_token_id_api_tokens_id_fk" FOREIGN KEY ("token_id") REFERENCES "public"."api_tokens"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "console_sessions_sha256_uq" ON "console_sessions" USING btree ("session_sha256");--> statement-breakpoint
CREATE INDEX "console_sessions_tenant_idx" ON "console_sessions" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "console_sessions_token_idx" ON "console_sessions" USING btree ("token_id");--> statement-breakpoint
CREATE INDEX "console_sessions_expires_idx" ON "console_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE POLICY "console_sessions_tenant_isolation" ON "console_sessions" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "console_sessions_platform_all" ON "console_sessions" AS PERMISSIVE FOR ALL TO "metalfleet_platform" USING (true) WITH CHECK (true);--> statement-breakpoint
ALTER TABLE "console_sessions" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- Sessions are found, created and ended in the platform scope, before any tenant is known (as
-- API tokens are); the API decides what the credential may do on every request.
GRANT SELECT, INSERT, DELETE, UPDATE ("session_sha256", "link", "expires_at") ON "console_sessions" TO metalfleet_platform;
