-- The audit log filtered by resource (GET …/audit?resource=, the console's filter): one kind's events
-- of a tenant, newest first, from the index instead of a scan of all its events.
CREATE INDEX "audit_events_tenant_resource_at_idx" ON "audit_events" USING btree ("tenant_id","resource","at");
