// What the console reads from the API, as the API's JSON answers shape it (the subset pages show).
export interface ClusterView {
  name: string; backend: string; namespace: string; labels: Record<string, string>;
  desiredRevision: number; appliedRevision: number | null; lastSeenAt: string | null; lastApplyError: string | null;
  renderProblems: Array<{ code: string; path: string; message: string; remedy: string }> | null;
  withdrawingSince: string | null; pinnedRevision: number | null;
}
export interface GrantView { id: string; cidr: string; quarantined: unknown[] }
export interface PoolView { name: string; cidrs: string[]; autoAssign?: boolean; clusterSelector?: unknown }
export interface PeerView {
  name: string; myASN: number; peerASN?: number; dynamicASN?: string; peerAddress?: string; interface?: string;
  bfdProfile?: string; holdTime?: string; ebgpMultiHop?: boolean;
}
export interface SessionView {
  node: string; peer: string; vrf: string; bgpState: string; bfdState: string | null; uptimeSeconds: number | null;
  prefixesReceived: number | null; prefixesSent: number | null; lastResetReason: string | null; updatedAt: string;
}
export interface RevisionSummary { revision: number; backend: string; sha256: string; cause: string; createdAt: string }
export interface AuditEvent { id: string; at: string; actor: string; action: string; resource: string; resourceId: string | null; requestId: string | null }
export interface RolloutPolicyView {
  waves: Array<{
    name: string; selector?: LabelSelectorView; percent?: number;
    maxClusters?: number; bakeSeconds: number; timeoutSeconds: number;
  }>;
  onNewChange: 'queue' | 'supersede';
}
export interface RolloutGateView { gate: string; ok: boolean; evidence: string }
export interface RolloutClusterView {
  cluster: string; state: string; serving: 'previous' | 'new'; fromRevision: number | null; toRevision: number;
  desiredRevision: number; appliedRevision: number | null; verdict: string | null; reason: string | null;
  evaluatedAt: string | null; gates: RolloutGateView[];
}
export interface RolloutSummaryView {
  number: number; state: string; cause: string; createdBy: string; createdAt: string; updatedAt: string;
  currentWave: string | null; waveStartedAt: string | null; pausedReason: string | null;
}
export interface RolloutView extends RolloutSummaryView {
  waves: Array<{ name: string; bakeSeconds: number; timeoutSeconds: number; clusters: RolloutClusterView[] }>;
}
export interface LabelSelectorView {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}
