CREATE TABLE "rollout_clusters" (
	"rollout_id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	"cluster_id" uuid NOT NULL,
	"wave" integer NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"from_revision" integer,
	"to_revision" integer NOT NULL,
	"baseline" jsonb,
	"gates" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rollout_clusters_rollout_id_cluster_id_pk" PRIMARY KEY("rollout_id","cluster_id"),
	CONSTRAINT "rollout_clusters_state_check" CHECK ("rollout_clusters"."state" in ('pending', 'progressing', 'passed', 'rolled-back', 'skipped'))
);
--> statement-breakpoint
ALTER TABLE "rollout_clusters" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "rollout_policies" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"policy" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "rollout_policies" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "rollouts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"number" integer NOT NULL,
	"state" text NOT NULL,
	"cause" text NOT NULL,
	"created_by" text NOT NULL,
	"waves" jsonb NOT NULL,
	"current_wave" integer DEFAULT 0 NOT NULL,
	"wave_started_at" timestamp with time zone,
	"paused_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rollouts_state_check" CHECK ("rollouts"."state" in ('queued', 'progressing', 'paused', 'completed', 'aborted', 'superseded'))
);
--> statement-breakpoint
ALTER TABLE "rollouts" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "clusters" ADD COLUMN "latest_revision" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "rollout_clusters" ADD CONSTRAINT "rollout_clusters_rollout_id_rollouts_id_fk" FOREIGN KEY ("rollout_id") REFERENCES "public"."rollouts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollout_clusters" ADD CONSTRAINT "rollout_clusters_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollout_clusters" ADD CONSTRAINT "rollout_clusters_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollout_policies" ADD CONSTRAINT "rollout_policies_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "rollout_clusters_cluster_idx" ON "rollout_clusters" USING btree ("cluster_id");--> statement-breakpoint
CREATE UNIQUE INDEX "rollouts_tenant_number_uq" ON "rollouts" USING btree ("tenant_id","number");--> statement-breakpoint
CREATE INDEX "rollouts_unfinished_idx" ON "rollouts" USING btree ("tenant_id") WHERE "rollouts"."state" in ('queued', 'progressing', 'paused');--> statement-breakpoint
CREATE POLICY "rollout_clusters_tenant_isolation" ON "rollout_clusters" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "rollout_clusters_platform_read" ON "rollout_clusters" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "rollout_policies_tenant_isolation" ON "rollout_policies" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "rollout_policies_platform_read" ON "rollout_policies" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "rollouts_tenant_isolation" ON "rollouts" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "rollouts_platform_read" ON "rollouts" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);