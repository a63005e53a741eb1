import { describe, expect, it } from "vitest";
import { PolicySchema } from "../../src/domain/policy.js";
import { createEmbedder, HashedNgramEmbeddings, tokens } from "../../src/memory/embeddings.js";

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe("hashed n-gram embeddings", () => {
  const e = new HashedNgramEmbeddings(512);

  it("is deterministic, unit length and of the configured size", async () => {
    const [a, b] = await e.embedDocuments(["implement CreateOrderHandler", "implement CreateOrderHandler"]);
    expect(a).toEqual(b);
    expect(a).toHaveLength(512);
    expect(Math.hypot(...a!)).toBeCloseTo(1, 6);
    expect(await e.embedQuery("")).toEqual(new Array(512).fill(0));
  });

  it("ranks related wording above unrelated wording", async () => {
    const q = await e.embedQuery("implement CancelOrderHandler for the order service");
    const related = await e.embedQuery("implement CreateOrderHandler in the order service");
    const unrelated = await e.embedQuery("capture payment when the invoice ships");
    expect(cosine(q, related)).toBeGreaterThan(cosine(q, unrelated) + 0.2);
  });

  it("splits camelCase, paths and punctuation into words", () => {
    expect(tokens("src/Application/CreateOrderHandler.cs HTTPServer snake_case")).toEqual([
      "src",
      "application",
      "create",
      "order",
      "handler",
      "cs",
      "http",
      "server",
      "snake",
      "case",
    ]);
  });

  it("carries its identity so stores can refuse other vectors", () => {
    expect(new HashedNgramEmbeddings(256).identity).toEqual({ name: "hashed-ngram", version: "1", dimensions: 256 });
  });
});

describe("createEmbedder", () => {
  it("defaults to the hashed embedder with 512 dimensions", () => {
    expect(createEmbedder(PolicySchema.parse({}), {}).identity).toEqual({
      name: "hashed-ngram",
      version: "1",
      dimensions: 512,
    });
  });

  it("an OpenAI embedder needs OPENAI_API_KEY and names the model in its identity", () => {
    const policy = PolicySchema.parse({
      embeddings: { provider: "openai", model: "text-embedding-3-small", dimensions: 256 },
    });
    expect(() => createEmbedder(policy, {})).toThrow(/OPENAI_API_KEY/);
    expect(createEmbedder(policy, { OPENAI_API_KEY: "k" }).identity).toEqual({
      name: "openai:text-embedding-3-small",
      version: "1",
      dimensions: 256,
    });
  });
});
