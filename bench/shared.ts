/** Types and constants shared by the forge benchmarks' processes (bench/forges.ts or bench/index.ts via forge-harness.ts, runner.ts, emulator-host.ts). */
import type { BarePr } from "./bare.js";

export type ForgeKind = "azure-devops" | "github";
/**
 * agent: memory off (forge work only, like for like with bare); agent+mem: the default SQLite memory in a fresh
 * state file; bare: bench/bare.ts; bare+reads: bench/bare.ts also reading the commit and its files' texts.
 */
export type Mode = "agent" | "agent+mem" | "bare" | "bare+reads";

export const TOKENS: Record<ForgeKind, string> = { "azure-devops": "bench-azdo-pat", github: "ghp_benchToken000000" };
export const REPOS: Record<ForgeKind, string> = { "azure-devops": "OrderService", github: "acme/OrderService" };

export interface Branch {
  branch: string;
  commit: string;
}

/** One request of the emulator's log, as the benchmark needs it. */
export interface LoggedCall {
  route: string;
  method: string;
  /** Path without the query; kept for discovery calls only. */
  path?: string;
  at: number;
  status: number | string | null;
}

/** The PRs of the measured branches as the emulator holds them (warm-up PRs left out). */
export interface PrCheck {
  prs: number;
  /** PRs with the expected number of reviewers and every expected label. */
  complete: number;
  /** PRs beyond the first on one source branch (a second PR for one event). */
  duplicates: number;
  /** Measured branches with no PR. */
  missing: number;
  reviewerCounts: number[];
  /** How many PRs carry each label. */
  labels: Record<string, number>;
}

/** Emulator host protocol (parent → emulator-host.ts). */
export type HostOp =
  /**
   * `capacity`: like a real forge, a strict proxy (test/emulators/strict-proxy.ts) in front of the emulator
   * delays every request, discovery included, by `latencyMs` and serves only `capacity` at a time (a server
   * serialising its git-backed reads); the URL returned is the proxy's.
   */
  | { op: "start"; forge: ForgeKind; latencyMs: number; capacity?: number }
  | { op: "seed"; tag: number; count: number }
  | { op: "reset" }
  | { op: "clearLog" }
  | { op: "log" }
  | { op: "check"; reviewers: number; labels: string[]; branches: string[] }
  | { op: "stop" };

export interface Endpoint {
  forge: ForgeKind;
  url: string;
  project?: string;
}

/** Runner protocol (parent ↔ runner.ts): run → warmed → go → done. */
export interface RunRequest {
  type: "run";
  endpoint: Endpoint;
  mode: Mode;
  concurrency: number;
  warmup: Branch[];
  branches: Branch[];
  /** The PR the bare script makes (taken from the agent's first run); required for modes "bare" and "bare+reads". */
  template?: BarePr;
}

/** One HTTP request as the client process saw it (performance.now() times). */
export interface TracedCall {
  start: number;
  /** Response received; Infinity when the channel never reported it. */
  end: number;
  /** Azure location discovery (OPTIONS, ResourceAreas, connectionData). */
  discovery: boolean;
}

export interface PrTiming {
  ms: number;
  /** performance.now() in the runner at the handle() call and at its result. */
  start: number;
  end: number;
  startEpoch: number;
  endEpoch: number;
  ok: boolean;
  failure?: string;
}

export interface RunDone {
  type: "done";
  timings: PrTiming[];
  wallMs: number;
  /** This process's user + system CPU time during the measured phase. */
  cpuMs: number;
  rssStart: number;
  rssPeak: number;
  heapPeak: number;
  /** Every HTTP request of the measured phase. */
  calls: TracedCall[];
  /** Agent mode: the first PR the agent made, as the bare script would send it. */
  template?: BarePr;
}

export type RunnerMessage = { type: "warmed" } | RunDone | { type: "error"; error: string };
