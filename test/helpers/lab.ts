// The BGP lab lives in cli/lab.ts: `metalfleet demo` runs FRR peering BIRD with it, and the
// data-plane tests use the same code.
export * from '../../cli/lab.ts';
