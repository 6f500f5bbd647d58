-- MetalLB 0.16's vocabulary: address ranges in pools (pool_cidrs.entry), pool labels, passwordSecret,
-- ipAddressPoolSelectors and serviceSelectors, and a BGP and an L2 advertisement sharing a name.
-- Audit events take the clock, so that the events of one transaction keep their order.
DROP INDEX "advertisements_tenant_name_uq";--> statement-breakpoint
ALTER TABLE "audit_events" ALTER COLUMN "at" SET DEFAULT clock_timestamp();--> statement-breakpoint
ALTER TABLE "advertisements" ADD COLUMN "ip_address_pool_selectors" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "advertisements" ADD COLUMN "service_selectors" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "peers" ADD COLUMN "password_secret" text;--> statement-breakpoint
ALTER TABLE "pool_cidrs" ADD COLUMN "entry" text;--> statement-breakpoint
-- Every existing row is a CIDR entry of its own.
UPDATE "pool_cidrs" SET "entry" = "cidr"::text;--> statement-breakpoint
ALTER TABLE "pool_cidrs" ALTER COLUMN "entry" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "pools" ADD COLUMN "labels" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "advertisements_tenant_type_name_uq" ON "advertisements" USING btree ("tenant_id","type","name");