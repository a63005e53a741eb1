/**
 * Azure DevOps location data, discovered once per process and kept on disk for a day.
 *
 * Before its first call azure-devops-node-api discovers where things are: `OPTIONS /_apis/Location` and
 * `GET /_apis/ResourceAreas` (the URL of each resource area, kept by the WebApi in `_resourceAreas`), then
 * `OPTIONS /_apis/<area>` per client (the route templates and versions of the area's resources, kept by the
 * client's VsoClient in `_locationsByAreaPromises`). Three round trips, one after another, before every CLI
 * run's first PR; and every call that starts before an area's OPTIONS has answered sends its own.
 *
 * Here both are primed from memory (the same process) or from a JSON file next to the state file (another
 * process, younger than the TTL), and captured after a discovery. Stale or wrong data falls back to discovery:
 * past the TTL the file is ignored; a resource the cached area locations do not list is discovered again (and
 * the cache entry replaced). These hooks are the library's own fields (`_resourceAreas`, `_locationsByAreaPromises`,
 * `beginGetAreaLocations`, `beginGetLocation`), present since azure-devops-node-api 6 and in 17.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

/** A day: location data changes with service deployments, rarely. */
export const LOCATION_CACHE_TTL_MS = 24 * 60 * 60 * 1000;
const FORMAT = 1;

type Lookup = Record<string, unknown>;

interface Entry {
  saved_at: number;
  /** WebApi._resourceAreas: the resource areas' URLs. */
  resource_areas?: unknown;
  /** Per area: VsoClient's lookup of resource location id → location. */
  areas: Record<string, Lookup>;
}

interface CacheFile {
  format: number;
  /** By organisation URL. */
  orgs: Record<string, Entry>;
}

/** The WebApi fields used (azure-devops-node-api keeps them public in JS, private in its types). */
interface WebApiLike {
  _resourceAreas?: unknown;
}

/** A client's VsoClient, as used here. */
interface VsoClientLike {
  _locationsByAreaPromises: Record<string, Promise<Lookup> | undefined>;
  beginGetAreaLocations(area: string): Promise<Lookup>;
  beginGetLocation(area: string, locationId: string): Promise<unknown>;
}

const memory = new Map<string, Entry>();

/** Counters for tests and the benchmark: where each area's locations came from. */
export interface LocationStats {
  fromMemory: number;
  fromDisk: number;
  discovered: number;
  /** Cached data found wrong (a resource missing) and discovered again. */
  rediscovered: number;
}

export class AzureLocations {
  readonly stats: LocationStats = { fromMemory: 0, fromDisk: 0, discovered: 0, rediscovered: 0 };
  private readonly now: () => number;

  constructor(
    private readonly orgUrl: string,
    /** The JSON file; undefined keeps the data in this process only. */
    private readonly file: string | undefined,
    opts: { ttlMs?: number; now?: () => number } = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.ttlMs = opts.ttlMs ?? LOCATION_CACHE_TTL_MS;
  }

  private readonly ttlMs: number;

  /** The fresh entry for this organisation: this process's, else the file's; undefined when none or stale. */
  private entry(): { entry: Entry; source: "memory" | "disk" } | undefined {
    const fresh = (e: Entry | undefined) =>
      e !== undefined && this.now() - e.saved_at < this.ttlMs && e.saved_at <= this.now();
    const inMemory = memory.get(this.orgUrl);
    if (fresh(inMemory)) return { entry: inMemory!, source: "memory" };
    const onDisk = this.read()?.orgs[this.orgUrl];
    if (onDisk && fresh(onDisk) && typeof onDisk.areas === "object" && onDisk.areas !== null) {
      memory.set(this.orgUrl, onDisk);
      return { entry: onDisk, source: "disk" };
    }
    return undefined;
  }

  /** Gives the connection the cached resource areas, so `getXApi()` skips Location and ResourceAreas. */
  primeConnection(conn: object): void {
    const webApi = conn as WebApiLike;
    const cached = this.entry();
    if (webApi._resourceAreas === undefined && cached?.entry.resource_areas !== undefined) {
      webApi._resourceAreas = cached.entry.resource_areas;
    }
  }

  /**
   * Makes `client`'s locations of `area` known before its first call: from the cache, else by one discovery
   * (which every concurrent first call then shares), saved for the next client and the next process.
   */
  async prepare(conn: object, client: { vsoClient: unknown }, area: string): Promise<void> {
    const vso = client.vsoClient as VsoClientLike;
    const cached = this.entry();
    const lookup = cached?.entry.areas[area];
    if (lookup !== undefined) {
      vso._locationsByAreaPromises[area] = Promise.resolve(lookup);
      this.stats[cached!.source === "memory" ? "fromMemory" : "fromDisk"]++;
      this.fallBackWhenMissing(conn, vso, area);
      return;
    }
    await this.discover(conn, vso, area);
    this.stats.discovered++;
    this.fallBackWhenMissing(conn, vso, area);
  }

  private async discover(conn: object, vso: VsoClientLike, area: string): Promise<void> {
    delete vso._locationsByAreaPromises[area];
    const lookup = await vso.beginGetAreaLocations(area);
    const previous = memory.get(this.orgUrl);
    const keep = previous !== undefined && this.now() - previous.saved_at < this.ttlMs;
    const entry: Entry = {
      saved_at: keep ? previous.saved_at : this.now(),
      resource_areas: (conn as WebApiLike)._resourceAreas ?? (keep ? previous.resource_areas : undefined),
      areas: { ...(keep ? previous.areas : {}), [area]: lookup },
    };
    memory.set(this.orgUrl, entry);
    this.write(entry);
  }

  /** A resource the primed lookup lacks: the cached data is stale for this area, so discover it again. */
  private fallBackWhenMissing(conn: object, vso: VsoClientLike, area: string): void {
    const original = vso.beginGetLocation.bind(vso);
    let retried = false;
    vso.beginGetLocation = async (a: string, locationId: string) => {
      const found = await original(a, locationId);
      if (found !== undefined || a !== area || retried) return found;
      retried = true;
      this.stats.rediscovered++;
      await this.discover(conn, vso, area);
      return original(a, locationId);
    };
  }

  private read(): CacheFile | undefined {
    if (this.file === undefined) return undefined;
    try {
      const parsed = JSON.parse(readFileSync(this.file, "utf8")) as CacheFile;
      return parsed.format === FORMAT && typeof parsed.orgs === "object" && parsed.orgs !== null ? parsed : undefined;
    } catch {
      return undefined; // missing, unreadable or not ours: discover
    }
  }

  /** Best effort: a cache that cannot be written costs the next process a discovery, nothing else. */
  private write(entry: Entry): void {
    if (this.file === undefined) return;
    try {
      const current = this.read() ?? { format: FORMAT, orgs: {} };
      current.orgs[this.orgUrl] = entry;
      mkdirSync(path.dirname(this.file), { recursive: true });
      const temp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(temp, `${JSON.stringify(current)}\n`);
      renameSync(temp, this.file);
    } catch {
      // ignored: see above
    }
  }
}

/** Forgets this process's location data (tests). */
export function clearLocationMemory(): void {
  memory.clear();
}
