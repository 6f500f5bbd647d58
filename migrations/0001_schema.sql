CREATE TABLE "address_grants" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"cidr" "cidr" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "address_grants" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "advertisement_peers" (
	"tenant_id" uuid NOT NULL,
	"advertisement_id" uuid NOT NULL,
	"peer_id" uuid NOT NULL,
	CONSTRAINT "advertisement_peers_advertisement_id_peer_id_pk" PRIMARY KEY("advertisement_id","peer_id")
);
--> statement-breakpoint
ALTER TABLE "advertisement_peers" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "advertisement_pools" (
	"tenant_id" uuid NOT NULL,
	"advertisement_id" uuid NOT NULL,
	"pool_id" uuid NOT NULL,
	CONSTRAINT "advertisement_pools_advertisement_id_pool_id_pk" PRIMARY KEY("advertisement_id","pool_id")
);
--> statement-breakpoint
ALTER TABLE "advertisement_pools" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "advertisements" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"communities" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"local_pref" bigint,
	"aggregation_length" integer,
	"aggregation_length_v6" integer,
	"node_selectors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"interfaces" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"cluster_selector" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "advertisements_type_check" CHECK ("advertisements"."type" in ('bgp', 'l2')),
	CONSTRAINT "advertisements_local_pref_check" CHECK ("advertisements"."local_pref" is null or "advertisements"."local_pref" between 0 and 4294967295),
	CONSTRAINT "advertisements_aggregation_check" CHECK (
    ("advertisements"."aggregation_length" is null or "advertisements"."aggregation_length" between 1 and 32) and
    ("advertisements"."aggregation_length_v6" is null or "advertisements"."aggregation_length_v6" between 1 and 128))
);
--> statement-breakpoint
ALTER TABLE "advertisements" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "agents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"cluster_id" uuid NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"kid" text NOT NULL,
	"previous_public_jwk" jsonb,
	"previous_kid" text,
	"previous_key_valid_until" timestamp with time zone,
	"agent_version" text,
	"revoked_at" timestamp with time zone,
	"last_seen_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agents" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"resource" text NOT NULL,
	"resource_id" text,
	"before" jsonb,
	"after" jsonb,
	"request_id" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_events" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "bfd_profiles" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"receive_interval" integer,
	"transmit_interval" integer,
	"detect_multiplier" integer,
	"echo_interval" integer,
	"echo_mode" boolean DEFAULT false NOT NULL,
	"passive_mode" boolean DEFAULT false NOT NULL,
	"minimum_ttl" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bfd_profiles_ranges_check" CHECK (
    ("bfd_profiles"."receive_interval" is null or "bfd_profiles"."receive_interval" between 10 and 60000) and
    ("bfd_profiles"."transmit_interval" is null or "bfd_profiles"."transmit_interval" between 10 and 60000) and
    ("bfd_profiles"."detect_multiplier" is null or "bfd_profiles"."detect_multiplier" between 2 and 255) and
    ("bfd_profiles"."echo_interval" is null or "bfd_profiles"."echo_interval" between 10 and 60000) and
    ("bfd_profiles"."minimum_ttl" is null or "bfd_profiles"."minimum_ttl" between 1 and 254))
);
--> statement-breakpoint
ALTER TABLE "bfd_profiles" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "clusters" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"backend" text NOT NULL,
	"namespace" text DEFAULT 'metallb-system' NOT NULL,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"capabilities" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"desired_revision" integer DEFAULT 0 NOT NULL,
	"applied_revision" integer,
	"last_seen_at" timestamp with time zone,
	"last_apply_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "clusters_backend_check" CHECK ("clusters"."backend" in ('metallb-native', 'metallb-frr', 'metallb-frr-k8s', 'frr')),
	CONSTRAINT "clusters_revision_check" CHECK ("clusters"."desired_revision" >= 0 and ("clusters"."applied_revision" is null or "clusters"."applied_revision" >= 0))
);
--> statement-breakpoint
ALTER TABLE "clusters" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "communities" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"value" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "communities" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "config_revisions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"cluster_id" uuid NOT NULL,
	"revision" integer NOT NULL,
	"backend" text NOT NULL,
	"content" text NOT NULL,
	"sha256" text NOT NULL,
	"cause" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "config_revisions_revision_check" CHECK ("config_revisions"."revision" >= 1),
	CONSTRAINT "config_revisions_sha256_check" CHECK ("config_revisions"."sha256" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
ALTER TABLE "config_revisions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "enrollment_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"cluster_id" uuid NOT NULL,
	"token_sha256" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "enrollment_tokens_sha256_check" CHECK ("enrollment_tokens"."token_sha256" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
ALTER TABLE "enrollment_tokens" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "peers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"my_asn" bigint NOT NULL,
	"peer_asn" bigint,
	"dynamic_asn" text,
	"local_asn" bigint,
	"peer_address" "inet",
	"interface" text,
	"source_address" "inet",
	"peer_port" integer DEFAULT 179 NOT NULL,
	"router_id" "inet",
	"hold_time_seconds" integer,
	"keepalive_time_seconds" integer,
	"connect_time_seconds" integer,
	"ebgp_multi_hop" boolean DEFAULT false NOT NULL,
	"bfd_profile_id" uuid,
	"vrf" text,
	"password_encrypted" text,
	"enable_graceful_restart" boolean DEFAULT false NOT NULL,
	"dual_stack_address_family" boolean DEFAULT false NOT NULL,
	"local_peering" boolean DEFAULT false NOT NULL,
	"node_selectors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"cluster_selector" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "peers_my_asn_check" CHECK ("peers"."my_asn" between 1 and 4294967295),
	CONSTRAINT "peers_peer_asn_check" CHECK ("peers"."peer_asn" is null or "peers"."peer_asn" between 1 and 4294967295),
	CONSTRAINT "peers_local_asn_check" CHECK ("peers"."local_asn" is null or "peers"."local_asn" between 1 and 4294967295),
	CONSTRAINT "peers_one_asn_check" CHECK (("peers"."peer_asn" is null) <> ("peers"."dynamic_asn" is null)),
	CONSTRAINT "peers_dynamic_asn_check" CHECK ("peers"."dynamic_asn" is null or "peers"."dynamic_asn" in ('internal', 'external')),
	CONSTRAINT "peers_one_address_check" CHECK (("peers"."peer_address" is null) <> ("peers"."interface" is null)),
	CONSTRAINT "peers_port_check" CHECK ("peers"."peer_port" between 1 and 16384),
	CONSTRAINT "peers_timers_check" CHECK (
    ("peers"."hold_time_seconds" is null or "peers"."hold_time_seconds" = 0 or "peers"."hold_time_seconds" between 3 and 65535) and
    ("peers"."keepalive_time_seconds" is null or "peers"."keepalive_time_seconds" between 0 and 65535) and
    ("peers"."connect_time_seconds" is null or "peers"."connect_time_seconds" between 1 and 65535))
);
--> statement-breakpoint
ALTER TABLE "peers" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "pool_cidrs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"pool_id" uuid NOT NULL,
	"cidr" "cidr" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "pool_cidrs" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "pools" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"auto_assign" boolean DEFAULT true NOT NULL,
	"avoid_buggy_ips" boolean DEFAULT false NOT NULL,
	"service_allocation" jsonb,
	"cluster_selector" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "pools" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "session_states" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"cluster_id" uuid NOT NULL,
	"node" text NOT NULL,
	"peer" text NOT NULL,
	"vrf" text DEFAULT '' NOT NULL,
	"bgp_state" text NOT NULL,
	"bfd_state" text,
	"uptime_seconds" bigint,
	"prefixes_received" integer,
	"prefixes_sent" integer,
	"last_reset_reason" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "session_states" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "tenant_policies" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"policy" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tenant_policies" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tenants" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "address_grants" ADD CONSTRAINT "address_grants_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "advertisement_peers" ADD CONSTRAINT "advertisement_peers_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "advertisement_peers" ADD CONSTRAINT "advertisement_peers_advertisement_id_advertisements_id_fk" FOREIGN KEY ("advertisement_id") REFERENCES "public"."advertisements"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "advertisement_peers" ADD CONSTRAINT "advertisement_peers_peer_id_peers_id_fk" FOREIGN KEY ("peer_id") REFERENCES "public"."peers"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "advertisement_pools" ADD CONSTRAINT "advertisement_pools_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "advertisement_pools" ADD CONSTRAINT "advertisement_pools_advertisement_id_advertisements_id_fk" FOREIGN KEY ("advertisement_id") REFERENCES "public"."advertisements"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "advertisement_pools" ADD CONSTRAINT "advertisement_pools_pool_id_pools_id_fk" FOREIGN KEY ("pool_id") REFERENCES "public"."pools"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "advertisements" ADD CONSTRAINT "advertisements_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bfd_profiles" ADD CONSTRAINT "bfd_profiles_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clusters" ADD CONSTRAINT "clusters_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "communities" ADD CONSTRAINT "communities_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "config_revisions" ADD CONSTRAINT "config_revisions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "config_revisions" ADD CONSTRAINT "config_revisions_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollment_tokens" ADD CONSTRAINT "enrollment_tokens_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollment_tokens" ADD CONSTRAINT "enrollment_tokens_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "peers" ADD CONSTRAINT "peers_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "peers" ADD CONSTRAINT "peers_bfd_profile_id_bfd_profiles_id_fk" FOREIGN KEY ("bfd_profile_id") REFERENCES "public"."bfd_profiles"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pool_cidrs" ADD CONSTRAINT "pool_cidrs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pool_cidrs" ADD CONSTRAINT "pool_cidrs_pool_id_pools_id_fk" FOREIGN KEY ("pool_id") REFERENCES "public"."pools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pools" ADD CONSTRAINT "pools_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_states" ADD CONSTRAINT "session_states_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_states" ADD CONSTRAINT "session_states_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tenant_policies" ADD CONSTRAINT "tenant_policies_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "address_grants_tenant_idx" ON "address_grants" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "advertisement_peers_peer_idx" ON "advertisement_peers" USING btree ("peer_id");--> statement-breakpoint
CREATE INDEX "advertisement_pools_pool_idx" ON "advertisement_pools" USING btree ("pool_id");--> statement-breakpoint
CREATE UNIQUE INDEX "advertisements_tenant_name_uq" ON "advertisements" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE INDEX "agents_cluster_idx" ON "agents" USING btree ("cluster_id");--> statement-breakpoint
CREATE UNIQUE INDEX "agents_kid_uq" ON "agents" USING btree ("kid");--> statement-breakpoint
CREATE INDEX "audit_events_tenant_at_idx" ON "audit_events" USING btree ("tenant_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "bfd_profiles_tenant_name_uq" ON "bfd_profiles" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "clusters_tenant_name_uq" ON "clusters" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "communities_tenant_name_uq" ON "communities" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "config_revisions_cluster_revision_uq" ON "config_revisions" USING btree ("cluster_id","revision");--> statement-breakpoint
CREATE UNIQUE INDEX "enrollment_tokens_sha256_uq" ON "enrollment_tokens" USING btree ("token_sha256");--> statement-breakpoint
CREATE INDEX "enrollment_tokens_cluster_idx" ON "enrollment_tokens" USING btree ("cluster_id");--> statement-breakpoint
CREATE UNIQUE INDEX "peers_tenant_name_uq" ON "peers" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE INDEX "peers_bfd_profile_idx" ON "peers" USING btree ("bfd_profile_id");--> statement-breakpoint
CREATE INDEX "pool_cidrs_pool_idx" ON "pool_cidrs" USING btree ("pool_id");--> statement-breakpoint
CREATE INDEX "pool_cidrs_tenant_idx" ON "pool_cidrs" USING btree ("tenant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "pools_tenant_name_uq" ON "pools" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "session_states_cluster_node_peer_vrf_uq" ON "session_states" USING btree ("cluster_id","node","peer","vrf");--> statement-breakpoint
CREATE UNIQUE INDEX "tenants_slug_uq" ON "tenants" USING btree ("slug");--> statement-breakpoint
CREATE POLICY "address_grants_tenant_isolation" ON "address_grants" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "address_grants_platform_read" ON "address_grants" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "advertisement_peers_tenant_isolation" ON "advertisement_peers" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "advertisement_peers_platform_read" ON "advertisement_peers" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "advertisement_pools_tenant_isolation" ON "advertisement_pools" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "advertisement_pools_platform_read" ON "advertisement_pools" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "advertisements_tenant_isolation" ON "advertisements" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "advertisements_platform_read" ON "advertisements" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "agents_tenant_isolation" ON "agents" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "agents_platform_read" ON "agents" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "agents_agent_cluster" ON "agents" AS PERMISSIVE FOR ALL TO "metalfleet_agent" USING (cluster_id = nullif(current_setting('metalfleet.cluster_id', true), '')::uuid) WITH CHECK (cluster_id = nullif(current_setting('metalfleet.cluster_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "audit_events_tenant_isolation" ON "audit_events" AS PERMISSIVE FOR SELECT TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "audit_events_tenant_insert" ON "audit_events" AS PERMISSIVE FOR INSERT TO "metalfleet_app" WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "audit_events_platform_read" ON "audit_events" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "audit_events_platform_insert" ON "audit_events" AS PERMISSIVE FOR INSERT TO "metalfleet_platform" WITH CHECK (tenant_id is null);--> statement-breakpoint
CREATE POLICY "bfd_profiles_tenant_isolation" ON "bfd_profiles" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "bfd_profiles_platform_read" ON "bfd_profiles" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "clusters_tenant_isolation" ON "clusters" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "clusters_platform_read" ON "clusters" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "clusters_agent_cluster" ON "clusters" AS PERMISSIVE FOR ALL TO "metalfleet_agent" USING (id = nullif(current_setting('metalfleet.cluster_id', true), '')::uuid) WITH CHECK (id = nullif(current_setting('metalfleet.cluster_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "communities_tenant_isolation" ON "communities" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "communities_platform_read" ON "communities" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "config_revisions_tenant_isolation" ON "config_revisions" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "config_revisions_platform_read" ON "config_revisions" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "config_revisions_agent_cluster" ON "config_revisions" AS PERMISSIVE FOR ALL TO "metalfleet_agent" USING (cluster_id = nullif(current_setting('metalfleet.cluster_id', true), '')::uuid) WITH CHECK (cluster_id = nullif(current_setting('metalfleet.cluster_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "enrollment_tokens_tenant_isolation" ON "enrollment_tokens" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "enrollment_tokens_platform_read" ON "enrollment_tokens" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "peers_tenant_isolation" ON "peers" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "peers_platform_read" ON "peers" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "pool_cidrs_tenant_isolation" ON "pool_cidrs" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "pool_cidrs_platform_read" ON "pool_cidrs" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "pools_tenant_isolation" ON "pools" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "pools_platform_read" ON "pools" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "session_states_tenant_isolation" ON "session_states" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "session_states_platform_read" ON "session_states" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "session_states_agent_cluster" ON "session_states" AS PERMISSIVE FOR ALL TO "metalfleet_agent" USING (cluster_id = nullif(current_setting('metalfleet.cluster_id', true), '')::uuid) WITH CHECK (cluster_id = nullif(current_setting('metalfleet.cluster_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_policies_tenant_isolation" ON "tenant_policies" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_policies_platform_read" ON "tenant_policies" AS PERMISSIVE FOR SELECT TO "metalfleet_platform" USING (true);--> statement-breakpoint
CREATE POLICY "tenants_tenant_isolation" ON "tenants" AS PERMISSIVE FOR ALL TO "metalfleet_app" USING (id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid) WITH CHECK (id = nullif(current_setting('metalfleet.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenants_platform_all" ON "tenants" AS PERMISSIVE FOR ALL TO "metalfleet_platform" USING (true) WITH CHECK (true);--> statement-breakpoint
CREATE POLICY "tenants_agent_read" ON "tenants" AS PERMISSIVE FOR SELECT TO "metalfleet_agent" USING (id = (select c.tenant_id from clusters c where c.id = nullif(current_setting('metalfleet.cluster_id', true), '')::uuid));