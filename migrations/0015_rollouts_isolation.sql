-- What drizzle-kit cannot emit for the rollout tables of 0014 (kept apart so the generated file
-- can be renumbered on its own): FORCE RLS, so the table owner is bound by the policies too, and
-- the grants of each scope. The tenant scope reads and writes its rollouts; the platform scope
-- reads them (fleet health, the paused-rollouts metric); agents never see them.
ALTER TABLE "rollout_policies" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "rollouts" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "rollout_clusters" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "rollout_policies", "rollouts", "rollout_clusters" TO metalfleet_app;
--> statement-breakpoint
GRANT SELECT ON "rollout_policies", "rollouts", "rollout_clusters" TO metalfleet_platform;
