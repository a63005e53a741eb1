import { Embeddings } from "@langchain/core/embeddings";
import { PrCreatorError } from "../domain/errors.js";
import type { Policy } from "../domain/policy.js";
import type { EmbedderIdentity } from "./store.js";

/** FNV-1a, 32 bits: a fixed, fast hash so the same text always lands in the same buckets. */
function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Lower-case word tokens, split at non-alphanumerics and camelCase: `CreateOrderHandler.cs` → create, order, handler, cs. */
export function tokens(text: string): string[] {
  return text
    .normalize("NFKC")
    .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, "$1 $2")
    .replace(/(\p{Lu}+)(\p{Lu}\p{Ll})/gu, "$1 $2")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 1);
}

/**
 * A deterministic embedder that needs no model: signed feature hashing of word unigrams, bigrams and
 * character 3–5-grams into a fixed number of dimensions, log-scaled and L2-normalised. Similar wording gives
 * similar vectors; meaning beyond words is out of its reach. Versioned, so stores can refuse other vectors.
 */
export class HashedNgramEmbeddings extends Embeddings {
  static readonly NAME = "hashed-ngram";
  static readonly VERSION = "1";

  constructor(readonly dimensions = 512) {
    super({});
  }

  get identity(): EmbedderIdentity {
    return { name: HashedNgramEmbeddings.NAME, version: HashedNgramEmbeddings.VERSION, dimensions: this.dimensions };
  }

  embed(text: string): number[] {
    const counts = new Map<number, number>();
    const add = (feature: string, weight: number) => {
      const h = fnv1a(feature);
      const index = h % this.dimensions;
      const sign = (fnv1a(feature, 0x9747b28c) & 1) === 0 ? 1 : -1;
      counts.set(index, (counts.get(index) ?? 0) + sign * weight);
    };
    const words = tokens(text);
    words.forEach((w, i) => {
      add(`w:${w}`, 1);
      if (i > 0) add(`b:${words[i - 1]} ${w}`, 1);
      const padded = `<${w}>`;
      for (let n = 3; n <= 5; n++) for (let j = 0; j + n <= padded.length; j++) add(`c:${padded.slice(j, j + n)}`, 0.5);
    });
    const vector = new Array<number>(this.dimensions).fill(0);
    for (const [i, v] of counts) vector[i] = Math.sign(v) * Math.log1p(Math.abs(v));
    const norm = Math.hypot(...vector);
    return norm === 0 ? vector : vector.map((x) => x / norm);
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    return documents.map((d) => this.embed(d));
  }

  async embedQuery(document: string): Promise<number[]> {
    return this.embed(document);
  }
}

export interface Embedder {
  embeddings: Embeddings;
  identity: EmbedderIdentity;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Embeddings whose client loads on the first call: the OpenAI one (@langchain/openai and the OpenAI SDK, a
 * fifth of a second to import) stays unloaded in a process that never embeds, such as a dry run.
 */
class DeferredEmbeddings extends Embeddings {
  private client: Promise<Embeddings> | undefined;
  constructor(private readonly load: () => Promise<Embeddings>) {
    super({});
  }
  private get target(): Promise<Embeddings> {
    return (this.client ??= this.load());
  }
  async embedDocuments(documents: string[]): Promise<number[][]> {
    return (await this.target).embedDocuments(documents);
  }
  async embedQuery(document: string): Promise<number[]> {
    return (await this.target).embedQuery(document);
  }
}

/** The configured embedder: the hashed n-gram one (default, offline) or an OpenAI-compatible model. */
export function createEmbedder(policy: Policy, env: Env = process.env): Embedder {
  const cfg = policy.embeddings;
  if (cfg.provider === "hashed") {
    const embeddings = new HashedNgramEmbeddings(cfg.dimensions ?? 512);
    return { embeddings, identity: embeddings.identity };
  }
  const apiKey = env.OPENAI_API_KEY?.trim();
  if (!apiKey) {
    throw new PrCreatorError("invalid_config", 'embeddings.provider is "openai" but OPENAI_API_KEY is not set.', {
      hint: "Set OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible server), or use embeddings.provider: hashed.",
    });
  }
  const dimensions = cfg.dimensions ?? 1536;
  const baseURL = env.OPENAI_BASE_URL?.trim() || undefined;
  const embeddings = new DeferredEmbeddings(async () => {
    const { OpenAIEmbeddings } = await import("@langchain/openai");
    return new OpenAIEmbeddings({
      apiKey,
      model: cfg.model,
      dimensions,
      maxRetries: policy.model.max_retries,
      configuration: baseURL ? { baseURL } : {},
    });
  });
  return { embeddings, identity: { name: `openai:${cfg.model}`, version: "1", dimensions } };
}
