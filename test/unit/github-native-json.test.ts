import http from "node:http";
import type { AddressInfo } from "node:net";
import { Octokit } from "@octokit/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nativeJsonBodies } from "../../src/forges/github/native-json.js";

/** Answers by path: each a status, a content type (or none) and a body. */
const ANSWERS: Record<string, { status: number; type?: string; body: string | Buffer }> = {
  "/json": {
    status: 200,
    type: "application/json; charset=utf-8",
    body: '{"id":42,"name":"x","nested":[1,{"a":null}]}',
  },
  "/scim": { status: 200, type: "application/scim+json", body: '{"id":"u1"}' },
  "/bad-json": { status: 200, type: "application/json", body: "not json" },
  "/empty-json": { status: 201, type: "application/json", body: "" },
  "/text": { status: 200, type: "text/plain", body: "diff --git a/x b/x" },
  "/utf8": { status: 200, type: "application/vnd.github.raw; charset=utf-8", body: "raw text" },
  "/binary": { status: 200, type: "application/octet-stream; charset=utf-8", body: Buffer.from([0, 1, 2]) },
  "/untyped": { status: 200, body: "plain" },
  "/no-content": { status: 204, body: "" },
  "/big": { status: 200, type: "application/json", body: '{"n":9007199254740993}' },
};

let server: http.Server;
let baseUrl: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const answer = ANSWERS[req.url ?? ""] ?? { status: 404, type: "application/json", body: '{"message":"Not Found"}' };
    res.writeHead(answer.status, answer.type ? { "content-type": answer.type } : {});
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function client(native: boolean): Octokit {
  const octokit = new Octokit({ baseUrl, log: { debug() {}, info() {}, warn() {}, error() {} } });
  if (native) octokit.hook.wrap("request", nativeJsonBodies);
  return octokit;
}

describe("GitHub success bodies parsed natively (nativeJsonBodies)", () => {
  it("gives every content type the data Octokit's own parser gives", async () => {
    for (const path of Object.keys(ANSWERS).filter((p) => p !== "/big")) {
      const [ours, octokits] = await Promise.all([
        client(true).request(`GET ${path}`),
        client(false).request(`GET ${path}`),
      ]);
      expect({ path, status: ours.status, data: ours.data }).toEqual({
        path,
        status: octokits.status,
        data: octokits.data,
      });
    }
  });

  it("is the parser in use: an integer beyond 2^53 is a number, not Octokit's BigInt", async () => {
    expect(typeof (await client(false).request("GET /big")).data.n).toBe("bigint");
    expect(typeof (await client(true).request("GET /big")).data.n).toBe("number");
  });

  it("leaves a caller who asked for the raw stream its stream, and errors to Octokit", async () => {
    const raw = await client(true).request("GET /json", { request: { parseSuccessResponseBody: false } });
    expect(raw.data).toBeInstanceOf(ReadableStream);
    await expect(client(true).request("GET /missing")).rejects.toMatchObject({
      status: 404,
      response: { data: { message: "Not Found" } },
    });
  });
});
