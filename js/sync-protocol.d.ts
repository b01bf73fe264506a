// The sync protocol's state shapes, which the client's types (core.d.ts) and the server's
// (server/index.d.ts) share. Written apart from core.d.ts because that file names DOM types
// (URL, Response, WebAssembly): a backend's TypeScript sees these without a DOM lib.

/** A decimal string amount of TON, e.g. "12.5" in, "12.50000000" out. Never a JS number. */
export type Amount = string;

/**
 * The engine's own: 'synced' | 'pending' | 'failed'. The manager's state says what this page
 * session knows of the server instead until an exchange succeeded: 'connecting' (no answer yet),
 * 'unreachable' (no answer in the protocol), 'unauthorized' (401/403), 'refused' (the server
 * refused a request for good).
 */
export type SyncStatus = 'synced' | 'pending' | 'failed' | 'connecting' | 'unreachable' | 'unauthorized' | 'refused';

export interface ServerState {
  userId: number;
  totalEarned: Amount;
  currentEarnings: Amount;
  baseEarningRate: Amount;
  pendingReview: Amount;
  lastSeq: number;
  lastUpdate: number;
  startDate: number;
  isActive: boolean;
  syncStatus: SyncStatus;
}
